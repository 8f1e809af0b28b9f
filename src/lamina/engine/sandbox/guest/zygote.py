"""The zygote: a warm, single-threaded Python that forks sandbox instances on request.

Started once per runtime by the engine (launcher.py) with one SOCK_SEQPACKET socket on
fd _LAMINA_ZYGOTE_FD. It imports the bootstrap, the isolation code and the standard
modules most handlers use, then waits. Messages are JSON, one per packet:

  engine -> zygote  {"op": "spawn", "id", "env", "handler", "task_root", "plan",
                     "exec": [argv] or null}  with two fds: control socket, log socket
  zygote -> engine  {"op": "ready", "pid"} once;
                    {"op": "spawned", "id", "pid"} or {"op": "failed", "id", "error"};
                    {"op": "exit", "pid", "status"} when a child ends
                    (status: exit code, or -signal number)

A spawned child: new session, stdout/stderr to the log socket, isolation entered,
the function's environment, then either the Python bootstrap's serve() or exec of a
custom runtime's bootstrap. Standard library only: this file runs inside sandboxes.
"""

import ctypes
import gc
import importlib.util
import json
import os
import select
import selectors
import signal
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PR_SET_CHILD_SUBREAPER = 36

# Modules a typical handler imports, loaded once here so every fork has them for free.
PRELOAD = (
    "json",
    "logging",
    "traceback",
    "importlib",
    "resource",
    "ctypes",
    "ctypes.util",
    "datetime",
    "decimal",
    "uuid",
    "base64",
    "hashlib",
    "hmac",
    "urllib.parse",
    "collections",
    "re",
    "typing",
    "dataclasses",
    "enum",
    "functools",
    "itertools",
    "random",
    "string",
    "struct",
    "time",
    "math",
    "copy",
    "io",
    "tempfile",
    "threading",
    "contextlib",
    "inspect",
)


def _private_module(name, filename):
    """Load a sibling under a private name: a function's own `bootstrap.py` or
    `isolation.py` must still be importable under its own name."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, filename))
    if spec is None or spec.loader is None:
        raise ImportError(f"Lamina's runtime is missing {filename}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


frames = _private_module("_lamina_frames", "frames.py")


def _preload():
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass


def _child(message, control_fd, log_fd, report_fd, channel, bootstrap, isolation):
    """In the forked child: never returns."""

    def body():
        channel.close()
        _child_prelude(log_fd)
        isolation.enter(message.get("plan") or {}, report_fd)
        os.environ.clear()
        os.environ.update(message["env"])
        argv = message.get("exec")
        if argv:
            os.close(control_fd)
            os.execve(argv[0], argv, message["env"])
        wrapper = message["env"].get("AWS_LAMBDA_EXEC_WRAPPER")
        if wrapper:
            _exec_through(wrapper, message, control_fd, bootstrap)
        control = socket.socket(fileno=control_fd)
        bootstrap.serve(control, message["handler"], message["task_root"])

    _run_and_exit("Lamina sandbox failed to start", body)


def _exec_through(wrapper, message, control_fd, bootstrap):
    """AWS_LAMBDA_EXEC_WRAPPER: the runtime starts through the function's wrapper script,
    given the runtime's command (interpreter, options, script last), in a fresh interpreter
    (standalone.py) that serves the control socket this fork would have served."""
    os.set_inheritable(control_fd, True)
    env = dict(
        message["env"],
        _LAMINA_CONTROL_FD=str(control_fd),
        _LAMINA_HANDLER=message["handler"],
        _LAMINA_TASK_ROOT=message["task_root"],
        _LAMINA_PACKAGES=bootstrap.RUNTIME_PACKAGES or "",
    )
    # In a sandbox the runtime's files are bound where it can see them (plan "runtime_files").
    files = (message.get("plan") or {}).get("runtime_files") or HERE
    os.execve(wrapper, [wrapper, sys.executable, "-S", os.path.join(files, "standalone.py")], env)


def _read_pid(fd, timeout_s=10.0):
    """The instance's host pid, as the forked child reports it (None if it died first)."""
    try:
        ready, _, _ = select.select([fd], [], [], timeout_s) if timeout_s else ([fd], [], [])
        data = os.read(fd, 32) if ready else b""
    finally:
        os.close(fd)
    return int(data) if data.strip().isdigit() else None


def serve_channel(channel, on_spawn, pid_namespaces=None):
    """The zygote loop: read spawn requests (with their fds), fork, report exits.

    A spawned child may hand the instance to a grandchild (the PID 1 of new namespaces) and
    exit; as a child subreaper this process adopts such grandchildren, so it sees their exits
    too, and kills what is left of them when the engine goes away."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    children: set[int] = set()
    try:
        _serve(channel, on_spawn, children, pid_namespaces)
    finally:
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


def _serve(channel, on_spawn, children, pid_namespaces=None):
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)

    selector = selectors.DefaultSelector()
    selector.register(channel, selectors.EVENT_READ, "channel")
    selector.register(wake_read, selectors.EVENT_READ, "signal")
    reports: dict[int, tuple[str, int]] = {}  # report pipe -> (request id, forked pid)
    unclaimed: dict[int, int] = {}  # exits of pids not (yet) known as instances

    def send(document):
        channel.sendall(json.dumps(document).encode())

    def spawned(fd: int) -> None:
        request_id, forked = reports.pop(fd)
        selector.unregister(fd)
        instance_pid = _read_pid(fd, timeout_s=0) or forked
        children.add(instance_pid)
        send({"op": "spawned", "id": request_id, "pid": instance_pid})
        if instance_pid in unclaimed:  # it died before we heard who it was
            children.discard(instance_pid)
            send({"op": "exit", "pid": instance_pid, "status": unclaimed.pop(instance_pid)})

    send({"op": "ready", "pid": os.getpid()})
    while True:
        for key, _ in selector.select():
            if key.data == "signal":
                try:
                    os.read(wake_read, 4096)
                except BlockingIOError:
                    pass
                _reap(send, children, unclaimed)
                continue
            if key.data == "report":
                spawned(key.fd)
                continue
            try:
                data, fds, _, _ = socket.recv_fds(channel, frames.MAX_MESSAGE, 4)
            except OSError:
                return
            if not data:
                return  # the engine went away: so do we
            message = json.loads(data)
            if message.get("op") != "spawn" or len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                continue
            first_fd, log_fd = fds
            report_read, report_write = os.pipe()
            plan = message.get("plan") or {}
            own_namespace = bool(
                pid_namespaces
                and plan.get("namespaces")
                and not message.get("snapshot")
                and pid_namespaces.next_child_in_new()
            )
            try:
                pid = os.fork()
            except OSError as error:
                if own_namespace:
                    pid_namespaces.back()
                for fd in (first_fd, log_fd, report_read, report_write):
                    os.close(fd)
                send({"op": "failed", "id": message["id"], "error": str(error)})
                continue
            if pid and own_namespace:
                # Only here, in the zygote: done in the child, it would put the function's
                # own child processes back in the host's PID namespace.
                pid_namespaces.back()
            if pid == 0:
                selector.close()
                for fd in [wake_read, wake_write, report_read, *reports]:
                    os.close(fd)
                if pid_namespaces is not None:
                    pid_namespaces.close()
                if own_namespace:
                    message["plan"] = dict(plan, pid_namespace_made=True)
                on_spawn(message, first_fd, log_fd, report_write)  # never returns
                os._exit(1)
            for fd in (first_fd, log_fd, report_write):
                os.close(fd)
            # The child reports the instance's pid when its namespaces are up; meanwhile we
            # go on forking (instances are set up in parallel).
            reports[report_read] = (message["id"], pid)
            selector.register(report_read, selectors.EVENT_READ, "report")
        _reap(send, children, unclaimed)


def _child_prelude(log_fd):
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)


def _run_and_exit(failure: str, body) -> None:
    """Run a forked child's work, then exit: never back into the zygote's loop. A failure
    before the function runs is written to the instance's log and exits 127."""
    status = 0
    try:
        body()
    except SystemExit as error:
        status = error.code if isinstance(error.code, int) else 1
    except BaseException as error:  # report why this instance could not run, then go
        try:
            os.write(2, f"{failure}: {type(error).__name__}: {error}\n".encode())
        except OSError:
            pass
        status = 127
    _finish(status)


def _finish(status):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(status)


def _snapshot_child(message, channel_fd, log_fd, report_fd, bootstrap, isolation):
    """SnapStart: become the zygote of one function version, its init already run.

    In the sandbox (namespaces, mounts, uid) the function's init runs once, then the
    before-snapshot hooks; every instance of the version is then a fork of this process,
    which runs the after-restore hooks once the engine has put it in its own cgroups."""

    def body():
        _child_prelude(log_fd)
        isolation.enter(message.get("plan") or {}, report_fd)
        os.environ.clear()
        os.environ.update(message["env"])
        channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=channel_fd)
        handler, error, init_ms, log_request = bootstrap.initialize(message["handler"], message["task_root"])
        if error is None:
            error = bootstrap.run_hooks("before_snapshot")
        if error is not None:
            channel.sendall(json.dumps({"op": "snapshot", "init_ms": init_ms, "error": error}).encode())
            _finish(1)
        channel.sendall(json.dumps({"op": "snapshot", "init_ms": init_ms, "error": None}).encode())

        def restore(request, control_fd, instance_log_fd, report_fd):
            os.close(report_fd)  # already inside the namespaces: the fork pid is the one (see hello)
            _restored_child(request, control_fd, instance_log_fd, channel, handler, log_request, bootstrap)

        serve_channel(channel, restore)

    _run_and_exit("Lamina snapshot failed", body)


def _restored_child(request, control_fd, log_fd, channel, handler, log_request, bootstrap):
    import struct
    import time

    def body():
        _child_prelude(log_fd)
        os.environ.clear()
        os.environ.update(request["env"])
        # Our pid as the engine sees it: the kernel translates SCM_CREDENTIALS across
        # PID namespaces, so this message tells the engine which host process we are.
        credentials = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
        channel.sendmsg(
            [json.dumps({"op": "hello", "id": request["id"]}).encode()],
            [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, credentials)],
        )
        channel.close()
        control = socket.socket(fileno=control_fd)
        header = frames.recv_exact(control, frames.HEADER.size)
        size, kind = frames.HEADER.unpack(header)
        frames.recv_exact(control, size)
        if kind != frames.GO:
            _finish(1)
        started = time.perf_counter()
        error = bootstrap.run_hooks("after_restore")
        restore_ms = (time.perf_counter() - started) * 1000
        sys.stdout.flush()
        ready = {"init_ms": restore_ms, "error": error, "pid": os.getpid(), "restored": True}
        control.sendall(frames.pack(frames.READY, json.dumps(ready).encode()))
        if error is None:
            bootstrap.serve_loop(control, handler, log_request)

    _run_and_exit("Lamina restore failed", body)


def _yield_to_the_platform():
    """SCHED_BATCH for the zygote and so for every instance it forks: a function woken by
    an invoke then waits for a free CPU instead of preempting the server's event loop in
    the middle of its send(). Under load that preemption made the server's write of an
    invoke cost 35-45 us on average (p90 110-130 us, the function's whole run) instead of
    13-16 us, and the accept-and-run rate 9% lower. Functions still get the same share of
    CPU (the same nice value; cgroups cap it), and an idle CPU runs them at once."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed here: the default policy


def _packages_path(isolation):
    """Where the runtime's packages (boto3, botocore, ...) are imported from: bound at
    /var/runtime in a mount namespace of our own when the engine asks for it (root), so that
    every module path and traceback names /var/runtime, as on AWS; else where they are.
    Writable for this zygote (root), which compiles their bytecode beside them as it imports
    them; its instances, unprivileged, only read it."""
    packages = os.environ.pop("_LAMINA_PACKAGES", "")
    mount_at = os.environ.pop("_LAMINA_PACKAGES_AT", "")
    if not packages or not mount_at:
        return packages or None
    isolation.unshare(isolation.CLONE_NEWNS)
    isolation.mount(None, "/", None, isolation.MS_REC | isolation.MS_PRIVATE)
    os.makedirs(mount_at, exist_ok=True)
    isolation.bind(packages, mount_at, readonly=False)
    return mount_at


# The clients a typical function creates at init: their data is loaded in the zygote.
SDK_WARM_SERVICES = (
    "s3",
    "dynamodb",
    "sqs",
    "sns",
    "lambda",
    "events",
    "kinesis",
    "logs",
    "sts",
    "secretsmanager",
    "ssm",
)


def _preload_sdk():
    """Import boto3 and botocore and load their data files once, here, so that a function's
    `import boto3` and its first clients cost an instance next to nothing.

    A throwaway session creates one client of each common service (every lazy import, every
    data file, every cache botocore keeps at module level). The default session instances
    start with is a fresh one that has resolved nothing (credentials, region, config files
    are read in the instance, from its function's environment) but shares the loader that
    holds the data already parsed."""
    try:
        import boto3
        import botocore.session

        warm = botocore.session.Session()
        boto3.Session(botocore_session=warm)  # boto3 adds its data path (resources) to the loader
        loader = warm.get_component("data_loader")
        for service in SDK_WARM_SERVICES:
            warm.create_client(
                service,
                region_name="us-east-1",
                aws_access_key_id="preload",
                aws_secret_access_key="preload",
                endpoint_url="http://127.0.0.1:9",
            )
            try:
                loader.load_service_model(service, "resources-1")
            except Exception:
                pass  # boto3 has resources for a few services only
        fresh = botocore.session.Session()
        fresh.register_component("data_loader", loader)
        boto3.setup_default_session(botocore_session=fresh)
    except ImportError:
        return  # no SDK offered
    except Exception as error:  # a broken SDK must not take the runtime down: instances import it themselves
        sys.stderr.write(f"Lamina could not preload boto3: {type(error).__name__}: {error}\n")
        offered = ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six")
        for name in [m for m in sys.modules if m.split(".")[0] in offered]:
            del sys.modules[name]


def main():
    channel = socket.socket(fileno=int(os.environ.pop("_LAMINA_ZYGOTE_FD")))
    channel.setblocking(True)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
    bootstrap = _private_module("_lamina_bootstrap", "bootstrap.py")
    isolation = _private_module("_lamina_isolation", "isolation.py")
    isolation.prepare()
    packages = _packages_path(isolation)
    sys.dont_write_bytecode = False  # what the zygote imports is compiled once, beside its source
    _preload()
    if packages:
        sys.path.append(packages)
        bootstrap.RUNTIME_PACKAGES = packages
        bootstrap.offered_packages()  # listed once, here, for every instance
        if os.environ.pop("_LAMINA_PRELOAD_SDK", ""):
            _preload_sdk()
    sys.dont_write_bytecode = True  # functions' code is read-only, and AWS writes none either
    bootstrap.install_log_handler()
    # Everything loaded so far is shared with every instance; frozen, the collector of a
    # forked instance never walks (and so never copies) those pages.
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server; it stops us
    _yield_to_the_platform()

    def spawn(message, first_fd, log_fd, report_fd):
        if message.get("snapshot"):
            _snapshot_child(message, first_fd, log_fd, report_fd, bootstrap, isolation)
        else:
            _child(message, first_fd, log_fd, report_fd, channel, bootstrap, isolation)

    serve_channel(channel, spawn, isolation.PidNamespaces())


def _reap(send, children, unclaimed):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        if pid in children:
            children.discard(pid)
            send({"op": "exit", "pid": pid, "status": code})
        else:
            # A namespace opener (exits at once, nobody asks), or an instance whose report
            # is still in its pipe: kept a while in case someone claims it.
            unclaimed[pid] = code
            if len(unclaimed) > 4096:
                unclaimed.pop(next(iter(unclaimed)))


if __name__ == "__main__":
    main()
