"""Isolation, seen from inside a function: the data dir, other functions' code and other
processes cannot be read or signalled. Needs root on Linux (namespaces and cgroups)."""

import json
import os
import sys

import pytest

needs_root = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0, reason="sandbox isolation needs root on Linux"
)

PROBE = """
import json, os, signal, socket

def handler(event, context):
    def can_read(path):
        try:
            with open(path, 'rb') as handle:
                handle.read(1)
            return True
        except OSError:
            return False

    def can_list(path):
        try:
            os.listdir(path)
            return True
        except OSError:
            return False

    def can_signal(pid):
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False

    def can_write(path):
        try:
            with open(path, 'w') as handle:
                handle.write('x')
            return True
        except OSError:
            return False

    return {
        "uid": os.getuid(),
        "pid": os.getpid(),
        "pids": sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),
        "hostname": socket.gethostname(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "task_files": sorted(os.listdir('/var/task')),
        "data_db": can_read(event["db"]),
        "data_dir_listing": os.listdir(event["data_dir"]) if can_list(event["data_dir"]) else None,
        "other_code": can_read(event["other_code"]),
        "signal_server": can_signal(event["server_pid"]),
        "write_task": can_write('/var/task/new.txt'),
        "tmp_writable": can_write('/tmp/mine.txt'),
        "no_new_privs": open('/proc/self/status').read().split('NoNewPrivs:')[1].split()[0],
        "sched_policy": os.sched_getscheduler(0),
        "environ_of_1": can_read('/proc/1/environ'),
        # A process the function starts lives in the sandbox's PID namespace too.
        "child_pid": int(__import__("subprocess").run(["/bin/sh", "-c", "echo $$"], capture_output=True,
                                                       text=True).stdout),
    }
"""


@needs_root
def test_the_sandbox_sees_only_itself(lamina, create_function, lambda_client, unique_name):
    other = create_function(
        code={"secret.py": "TOKEN = 'do-not-read'\n"}, handler="secret.handler", name=unique_name + "-other"
    )
    create_function(code={"app.py": PROBE})
    other_sha = None
    # The other function's code on the host, extracted once it has been invoked.
    lambda_client.invoke(FunctionName=other["FunctionName"])
    for entry in os.listdir(os.path.join(lamina.data_dir, "code")):
        candidate = os.path.join(lamina.data_dir, "code", entry, "secret.py")
        if os.path.exists(candidate):
            other_sha = candidate
    assert other_sha, "the other function's code should exist on the host"
    event = {
        "db": os.path.join(lamina.data_dir, "lamina.db"),
        "data_dir": lamina.data_dir,
        "other_code": other_sha,
        "server_pid": lamina.process.pid,
    }
    response = lambda_client.invoke(FunctionName=unique_name, Payload=json.dumps(event).encode())
    assert "FunctionError" not in response, response["Payload"].read()
    seen = json.loads(response["Payload"].read())
    assert seen["uid"] == 65534
    assert seen["pid"] == 1 and seen["pids"] == [1], "only its own processes are visible"
    assert 1 < seen["child_pid"] < 10, "a child of the function stays in its PID namespace"
    assert seen["task_root"] == "/var/task" and seen["task_files"] == ["app.py"]
    assert seen["data_db"] is False and not seen["data_dir_listing"], "the data dir is hidden"
    assert seen["other_code"] is False, "another function's code is unreachable"
    assert seen["signal_server"] is False, "the server cannot be signalled"
    assert seen["write_task"] is False, "/var/task is read-only"
    assert seen["tmp_writable"] is True
    assert seen["no_new_privs"] == "1"
    assert seen["sched_policy"] == os.SCHED_BATCH, "a woken function must not preempt the server's loop"
    assert seen["hostname"] != os.uname().nodename


@needs_root
def test_tmp_is_private_and_size_limited(create_function, lambda_client, unique_name):
    create_function(
        code={
            "app.py": """
        import os
        def handler(event, context):
            if event.get("read"):
                return os.listdir('/tmp')
            with open('/tmp/fill', 'wb') as handle:
                try:
                    for _ in range(2000):
                        handle.write(b'x' * (1 << 20))
                except OSError as error:
                    return {"stopped_at_mb": os.path.getsize('/tmp/fill') >> 20, "error": error.errno}
            return {"stopped_at_mb": None}
    """
        },
        EphemeralStorage={"Size": 512},
        MemorySize=1024,
        Timeout=60,
    )
    # /tmp is RAM-backed here (a tmpfs charged to the instance's memory cgroup), so the
    # function gets enough memory to reach the EphemeralStorage limit first.
    response = lambda_client.invoke(FunctionName=unique_name)
    filled = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, filled
    assert filled["stopped_at_mb"] is not None and filled["stopped_at_mb"] <= 512
    assert filled["error"] == 28  # ENOSPC
    # The server and other functions are unaffected: a second function's /tmp is empty.
    create_function(
        code={"app.py": "import os\ndef handler(e, c):\n    return os.listdir('/tmp')\n"}, name=unique_name + "-b"
    )
    # (A venv that lives under /tmp is bound back read-only, so only check for our file.)
    assert "fill" not in json.loads(lambda_client.invoke(FunctionName=unique_name + "-b")["Payload"].read())


@needs_root
def test_memory_limit_kills_only_that_instance(create_function, lambda_client, unique_name):
    create_function(
        code={
            "app.py": """
        def handler(event, context):
            if event.get("hog"):
                blocks = [bytearray(16 << 20) for _ in range(64)]  # 1 GB against 128 MB
                return len(blocks)
            return "fine"
    """
        },
        MemorySize=128,
        Timeout=30,
    )
    response = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"hog": true}')
    error = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError", "MemoryError")
    if error["errorType"] != "MemoryError":
        assert "signal: killed" in error["errorMessage"]
    assert json.loads(lambda_client.invoke(FunctionName=unique_name)["Payload"].read()) == "fine"


@needs_root
def test_fork_bomb_hurts_only_its_instance(create_function, lambda_client, unique_name, lamina):
    create_function(
        code={
            "app.py": """
        import os, time
        def handler(event, context):
            children = 0
            try:
                for _ in range(5000):
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    children += 1
            except OSError as error:
                return {"children": children, "errno": error.errno}
            return {"children": children}
    """
        },
        Timeout=20,
        MemorySize=2048,
    )
    response = lambda_client.invoke(FunctionName=unique_name)
    result = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        # The bomb ran the instance out of memory before it ran out of pids: also contained.
        assert result["errorType"] == "Runtime.OutOfMemory", result
    else:
        assert result["children"] < 1100 and result["errno"] == 11, "the pids limit (EAGAIN) stops the bomb"
    # The bomb's processes went with its instance, and everything else still works.
    assert "Functions" in lambda_client.list_functions(MaxItems=1)
    create_function(code={"app.py": "def handler(e, c):\n    return 'ok'\n"}, name=unique_name + "-after")
    assert json.loads(lambda_client.invoke(FunctionName=unique_name + "-after")["Payload"].read()) == "ok"


def test_busy_loop_times_out_and_the_server_stays_responsive(create_function, lambda_client, unique_name):
    import time

    create_function(code={"app.py": "def handler(e, c):\n    while True:\n        pass\n"}, Timeout=1)
    started = time.monotonic()
    response = lambda_client.invoke(FunctionName=unique_name)
    error = json.loads(response["Payload"].read())
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert time.monotonic() - started < 10
    assert lambda_client.get_function(FunctionName=unique_name)["Configuration"]["State"] == "Active"


def test_without_isolation_functions_still_run(lamina_factory):
    """LAMINA_ISOLATION=0 (and hosts without root): plain processes under rlimits."""
    from tests.conftest import ROLE, make_zip

    server = lamina_factory(LAMINA_ISOLATION="0")
    client = server.client()
    client.create_function(
        FunctionName="plain",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={
            "ZipFile": make_zip(
                {"app.py": "import os\ndef handler(e, c):\n    return os.environ['LAMBDA_TASK_ROOT']\n"}
            )
        },
    )
    task_root = json.loads(client.invoke(FunctionName="plain")["Payload"].read())
    assert task_root.startswith(server.data_dir) and task_root != "/var/task"
    assert "without namespaces" in server.log() or "isolation is off" in server.log()
