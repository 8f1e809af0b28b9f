"""Entering a sandbox's isolation, from inside the freshly forked instance process.

Runs in the zygote's child, before any function code: standard library only (ctypes for
the syscalls Python 3.11 does not wrap). The engine computes a plan (a plain dict, see
Plan below) and the child carries it out:

  as root on Linux                          otherwise (a warning is logged once, by the engine)
  - join the instance's cgroups (memory      - rlimits: data segment ~ MemorySize,
    = MemorySize, pids, cpu ~ memory)          file size ~ EphemeralStorage, no core files
  - unshare mount, PID, IPC, UTS namespaces
  - fork: the child is PID 1 of the new PID namespace; this process reports the child's
    pid and exits (the zygote, a child subreaper, adopts the instance)
  - private mounts: code read-only at /var/task, layers at /opt, a size-limited /tmp,
    the platform's data dir hidden, a fresh /proc
  - drop to an unprivileged uid/gid, no supplementary groups, no_new_privs

Plan keys: keep (the interpreter's directories, which must stay visible), closed
(directories the sandbox uid may not enter, covered: the kept paths under them come
back), cgroup_procs (cgroup.procs files to join first), cgroup_procs_late (to join
once set up: the CPU share), namespaces (bool), code_dir,
opt_dir (or None), binds ([[source, target], ...]: more read-only binds, e.g. a
runtime's own files at /var/runtime; the target is created if missing), runtime_files
(where such a bind put Lamina's own guest files, for the zygote's child to exec them),
tmp_mb, hide (paths to cover with an empty read-only tmpfs),
hide_late (hidden once the cgroups are joined), hostname, uid, gid, rlimits
({name: (soft, hard)}).
"""

import ctypes
import ctypes.util
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_NO_NEW_PRIVS = 38

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def prepare():
    """Load libc now, in the zygote, so that every fork inherits it: find_library runs
    `ldconfig -p` in a subprocess, which cost each new instance ~4 ms of its cold start."""
    _c()


class PidNamespaces:
    """For the zygote: fork an instance straight into a new PID namespace as its PID 1.

    unshare(CLONE_NEWPID) only decides where the caller's next child goes, and may be done
    once; setns() back to the zygote's own namespace afterwards allows the next one. This
    saves each instance a second fork (and a process that only opened the namespaces)."""

    def __init__(self):
        self.own = None  # an fd on our own PID namespace (no annotation: this runs on Python 3.9)
        try:
            self.own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.own = None

    def next_child_in_new(self):
        """True if the next fork lands in a new PID namespace (root only)."""
        if self.own is None:
            return False
        try:
            unshare(CLONE_NEWPID)
            return True
        except OSError:
            return False

    def back(self):
        assert self.own is not None, "only after next_child_in_new() said True"
        _check(_c().setns(ctypes.c_int(self.own), ctypes.c_int(CLONE_NEWPID)), "setns")

    def close(self):
        """In the child: the handle on the host's PID namespace must not reach a function."""
        if self.own is not None:
            os.close(self.own)
            self.own = None


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype, flags, data=None):
    _check(
        _c().mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def unshare(flags):
    _check(_c().unshare(ctypes.c_int(flags)), "unshare")


def prctl(option, value):
    _check(_c().prctl(ctypes.c_int(option), ctypes.c_ulong(value), 0, 0, 0), "prctl")


def sethostname(name):
    raw = name.encode()
    _check(_c().sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")


def bind(source, target, readonly):
    mount(source, target, None, MS_BIND | MS_REC)
    if readonly:
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _cover(path, size="4k"):
    """An empty tmpfs over `path` (writable for now: mount points may be made in it)."""
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=755")


def _seal(path):
    mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=755")


def _bring_back(kept):
    """Bind the interpreter's directories back wherever a cover hid them: a pyenv Python
    under /root (0700, closed to the sandbox's uid), or a venv under /tmp or under the
    hidden data dir. They were opened before the covers went on; once covered they are
    unreachable by name, but not through /proc/self/fd."""
    for path, fd, identity in kept:
        try:
            current = os.stat(path)
            if (current.st_dev, current.st_ino) == identity:
                continue
        except OSError:
            pass
        os.makedirs(path, mode=0o755, exist_ok=True)
        bind(f"/proc/self/fd/{fd}", path, readonly=True)


def apply_rlimits(limits):
    import resource

    for name, (soft, hard) in (limits or {}).items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            pass


def _report(report_fd, pid):
    if report_fd is not None:
        try:
            os.write(report_fd, str(pid).encode())
        finally:
            os.close(report_fd)


def enter(plan, report_fd=None):
    """Carry out the plan in this (forked, still root or not) process. Returns in the process
    that will run the function, after writing that process's host pid to `report_fd`."""
    # Memory and pids limits hold from the start; the CPU share is joined last, so that
    # setting up the sandbox is not billed to the function's small CPU quota.
    for procs in plan.get("cgroup_procs") or ():
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    late = plan.get("cgroup_procs_late") or ()

    if plan.get("namespaces") and plan.get("pid_namespace_made"):
        # The zygote forked us as PID 1 of a new PID namespace (PidNamespaces below): the
        # rest we open ourselves, and the zygote already knows our host pid.
        unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)
    elif plan.get("namespaces"):
        unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
        child = os.fork()
        if child:
            # This process only opened the namespaces: it says which process the instance is
            # (its pid as the host sees it) and goes. The zygote, a child subreaper, adopts the
            # instance and reports its exit; nothing stays behind to cost memory.
            _report(report_fd, child)
            os._exit(0)
        os.setsid()  # a session of its own: the engine kills the instance by its group
    if plan.get("namespaces"):
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        bind(plan["code_dir"], "/var/task", readonly=True)
        if plan.get("opt_dir"):
            bind(plan["opt_dir"], "/opt", readonly=True)
        else:
            mount("tmpfs", "/opt", "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=755")
        for source, target in plan.get("binds") or ():
            os.makedirs(target, mode=0o755, exist_ok=True)
            bind(source, target, readonly=True)
        kept = []
        for path in plan.get("keep") or ():  # opened now: the covers below may hide them
            fd = os.open(path, os.O_PATH | os.O_DIRECTORY)
            stat = os.fstat(fd)
            kept.append((path, fd, (stat.st_dev, stat.st_ino)))
        # Whatever lies under /tmp goes with the /tmp cover below.
        covers = [
            p
            for p in list(plan.get("closed") or ()) + list(plan.get("hide") or ())
            if os.path.isdir(p) and not (p + "/").startswith("/tmp/")
        ]
        for path in covers:
            _cover(path)
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(plan.get('tmp_mb', 512))}m,mode=1777")
        _bring_back(kept)
        for path in covers:
            _seal(path)
        for _, fd, _ in kept:
            os.close(fd)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        if plan.get("hostname"):
            sethostname(plan["hostname"])
        os.chdir("/var/task")

    for procs in late:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))  # read in our own PID namespace: 1 means us
    if plan.get("namespaces"):
        # Only now: the cgroup files were needed above.
        for path in plan.get("hide_late") or ():
            if os.path.isdir(path):
                mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=755")

    if not plan.get("namespaces"):
        _report(report_fd, os.getpid())
    elif report_fd is not None:
        os.close(report_fd)  # the PID 1 side: the opener reported us already
    apply_rlimits(plan.get("rlimits"))
    uid, gid = plan.get("uid"), plan.get("gid")
    if gid is not None and os.getegid() == 0:
        os.setgroups([])
        os.setgid(gid)
    if uid is not None and os.geteuid() == 0:
        os.setuid(uid)
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError:
        pass
