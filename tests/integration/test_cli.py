"""The `lamina` command, run as a subprocess against a live server, as a user would run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

import pytest

from tests.conftest import ROOT, free_port

ECHO = """
import os

def handler(event, context):
    print("handled", json_of(event))
    return {"event": event, "greeting": os.environ.get("GREETING"), "version": 1}

def json_of(value):
    import json
    return json.dumps(value, sort_keys=True)
"""

FAILING = """
def handler(event, context):
    raise ValueError("no good")
"""


def cli_env(lamina, **more) -> dict:
    env = dict(
        os.environ,
        LAMINA_ENDPOINT=lamina.url,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    env.pop("AWS_PROFILE", None)
    env.update(more)
    return env


def run_cli(lamina, *args: str, stdin: bytes | None = None, timeout: float = 60, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lamina.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=cli_env(lamina, **env),
        cwd=ROOT,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr.decode()}"
    return result.stdout.decode()


def write_function(directory, source: str = ECHO) -> str:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "app.py"), "w") as handle:
        handle.write(textwrap.dedent(source).lstrip())
    return str(directory)


@pytest.fixture
def deployed(lamina, tmp_path, unique_name) -> str:
    """A function deployed with the CLI; its name."""
    directory = write_function(tmp_path / "fn")
    ok(
        run_cli(
            lamina,
            "deploy-function",
            directory,
            "--name",
            unique_name,
            "--handler",
            "app.handler",
            "--env",
            "GREETING=hello",
        )
    )
    return unique_name


# --- deploy-function ------------------------------------------------------------------------


def test_deploy_function_creates_then_updates(lamina, lambda_client, tmp_path, unique_name):
    directory = write_function(tmp_path / "fn")
    with open(os.path.join(directory, "data.txt"), "w") as handle:
        handle.write("packaged too")
    out = ok(
        run_cli(
            lamina,
            "deploy-function",
            directory,
            "--name",
            unique_name,
            "--handler",
            "app.handler",
            "--memory",
            "256",
            "--timeout",
            "5",
            "--env",
            "GREETING=hello",
            "--env",
            "OTHER=a=b",
        )
    )
    lines = out.splitlines()
    assert lines[0].startswith(f"created {unique_name} (")
    assert lines[1] == f"  arn: arn:aws:lambda:us-east-1:000000000000:function:{unique_name}"
    config = lambda_client.get_function_configuration(FunctionName=unique_name)
    assert (config["Handler"], config["Runtime"], config["MemorySize"], config["Timeout"]) == (
        "app.handler",
        "python3.12",
        256,
        5,
    )
    assert config["Environment"]["Variables"] == {"GREETING": "hello", "OTHER": "a=b"}

    write_function(directory, ECHO.replace('"version": 1', '"version": 2'))
    out = ok(
        run_cli(
            lamina,
            "deploy-function",
            directory,
            "--name",
            unique_name,
            "--handler",
            "app.handler",
            "--memory",
            "512",
            "--timeout",
            "7",
            "--env",
            "GREETING=bye",
        )
    )
    assert out.startswith(f"updated {unique_name} (")
    config = lambda_client.get_function_configuration(FunctionName=unique_name)
    assert (config["MemorySize"], config["Timeout"]) == (512, 7)
    assert config["Environment"]["Variables"] == {"GREETING": "bye"}
    payload = json.loads(ok(run_cli(lamina, "invoke", unique_name, '{"x": 1}')))
    assert payload == {"event": {"x": 1}, "greeting": "bye", "version": 2}


def test_deploy_function_json(lamina, tmp_path, unique_name):
    directory = write_function(tmp_path / "fn")
    config = json.loads(
        ok(run_cli(lamina, "deploy-function", directory, "--name", unique_name, "--handler", "app.handler", "--json"))
    )
    assert config["FunctionName"] == unique_name
    assert config["CodeSize"] > 0


def test_deploy_function_usage_errors(lamina, tmp_path, unique_name):
    result = run_cli(lamina, "deploy-function", str(tmp_path / "missing"), "--name", unique_name, "--handler", "a.b")
    assert result.returncode == 2
    assert result.stderr.decode().strip() == f"lamina: {tmp_path / 'missing'} is not a directory"
    directory = write_function(tmp_path / "fn")
    result = run_cli(
        lamina, "deploy-function", directory, "--name", unique_name, "--handler", "a.b", "--env", "NOEQUALS"
    )
    assert result.returncode == 2
    assert "--env takes KEY=VALUE" in result.stderr.decode()


def test_deploy_function_rejected_by_the_api_is_one_line(lamina, tmp_path, unique_name):
    directory = write_function(tmp_path / "fn")
    # Lambda wants environment variable names of two characters or more.
    result = run_cli(
        lamina, "deploy-function", directory, "--name", unique_name, "--handler", "app.handler", "--env", "K=V"
    )
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("lamina: ValidationException: 1 validation error detected: Value 'K' at ")


# --- ls -------------------------------------------------------------------------------------


def test_ls_table_and_json(lamina, deployed):
    out = ok(run_cli(lamina, "ls"))
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "RUNTIME", "HANDLER", "MEMORY", "TIMEOUT", "LAST", "MODIFIED"]
    row = next(line for line in rows if line.split()[0] == deployed)
    assert row.split()[1:5] == ["python3.12", "app.handler", "128", "3"]

    functions = json.loads(ok(run_cli(lamina, "ls", "--json")))
    mine = [f for f in functions if f["FunctionName"] == deployed]
    assert len(mine) == 1
    assert mine[0]["FunctionArn"].endswith(f":function:{deployed}")


# --- invoke ---------------------------------------------------------------------------------


def test_invoke_inline_file_and_stdin(lamina, deployed, tmp_path):
    assert json.loads(ok(run_cli(lamina, "invoke", deployed, '{"x":1}'))) == {
        "event": {"x": 1},
        "greeting": "hello",
        "version": 1,
    }
    payload_file = tmp_path / "payload.json"
    payload_file.write_text('{"from": "file"}')
    assert json.loads(ok(run_cli(lamina, "invoke", deployed, f"@{payload_file}")))["event"] == {"from": "file"}
    assert json.loads(ok(run_cli(lamina, "invoke", deployed, "-", stdin=b'{"from": "stdin"}')))["event"] == {
        "from": "stdin"
    }
    assert json.loads(ok(run_cli(lamina, "invoke", deployed)))["event"] == {}


def test_invoke_json(lamina, deployed):
    out = json.loads(ok(run_cli(lamina, "invoke", "--json", deployed, '{"x":1}')))
    assert out == {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "FunctionError": None,
        "Payload": {"event": {"x": 1}, "greeting": "hello", "version": 1},
    }


def test_invoke_tail(lamina, deployed):
    # Flags after the optional payload and before it both work.
    for args in (("invoke", deployed, "--tail", '{"x":1}'), ("invoke", "--tail", deployed, '{"x":1}')):
        result = run_cli(lamina, *args)
        assert json.loads(ok(result))["event"] == {"x": 1}
        log = result.stderr.decode()
        assert "START RequestId: " in log
        assert 'handled {"x": 1}' in log
        assert "REPORT RequestId: " in log and "Billed Duration: " in log
    out = json.loads(ok(run_cli(lamina, "invoke", "--json", "--tail", deployed, '{"x":2}')))
    assert "START RequestId: " in out["Log"] and 'handled {"x": 2}' in out["Log"]


def test_invoke_async(lamina, deployed):
    assert ok(run_cli(lamina, "invoke", "--async", deployed, '{"x":1}')).strip() == "accepted (HTTP 202)"


def test_invoke_function_error_exits_1(lamina, create_function, unique_name):
    create_function(code={"app.py": FAILING})
    result = run_cli(lamina, "invoke", unique_name)
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "no good")
    out = json.loads(run_cli(lamina, "invoke", "--json", unique_name).stdout)
    assert out["FunctionError"] == "Unhandled"


def test_unknown_function_is_one_clear_line(lamina, unique_name):
    result = run_cli(lamina, "invoke", unique_name, '{"x":1}')
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().splitlines() == [
        f"lamina: ResourceNotFoundException: Function not found: "
        f"arn:aws:lambda:us-east-1:000000000000:function:{unique_name}"
    ]


def test_unreachable_server_is_one_clear_line(lamina):
    result = run_cli(lamina, "ls", LAMINA_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lamina: cannot reach the server: "), lines


def test_client_side_refusals_are_one_clear_line(lamina, deployed, tmp_path):
    result = run_cli(lamina, "invoke", deployed, f"@{tmp_path / 'missing.json'}")
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"lamina: cannot read {tmp_path / 'missing.json'}: No such file or directory"
    ]
    # botocore refuses --memory 64 before sending anything.
    directory = write_function(tmp_path / "fn")
    result = run_cli(
        lamina, "deploy-function", directory, "--name", deployed, "--handler", "app.handler", "--memory", "64"
    )
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lamina: Parameter validation failed: "), lines
    assert "MemorySize" in lines[0]


def test_bad_usage_exits_2(lamina, deployed):
    result = run_cli(lamina, "invoke", deployed, "{}", "extra")
    assert result.returncode == 2
    assert "unrecognized arguments: extra" in result.stderr.decode()


# --- logs -----------------------------------------------------------------------------------


def wait_for_output(predicate, what: str, seconds: float = 15.0):
    deadline = time.time() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_logs(lamina, deployed):
    ok(run_cli(lamina, "invoke", deployed, '{"marker": "logs-test"}'))

    def lines():
        result = run_cli(lamina, "logs", deployed)
        text = result.stdout.decode() if result.returncode == 0 else ""
        return text if "REPORT RequestId: " in text else None

    out = wait_for_output(lines, "REPORT in `lamina logs`")
    assert "START RequestId: " in out
    assert 'handled {"marker": "logs-test"}' in out
    assert "END RequestId: " in out
    report = next(line for line in out.splitlines() if "REPORT RequestId: " in line)
    assert "Duration: " in report and "Memory Size: 128 MB" in report
    assert time.strptime(report.split()[0], "%H:%M:%S")  # each line starts with its time
    assert "\n\n" not in out.strip(), "one line per log event, no blank lines between"

    as_json = [json.loads(line) for line in ok(run_cli(lamina, "logs", deployed, "--json")).splitlines()]
    assert any("START RequestId: " in event["message"] for event in as_json)
    assert all({"timestamp", "message", "eventId", "logStreamName"} <= set(event) for event in as_json)


def test_logs_of_unknown_function(lamina, unique_name):
    result = run_cli(lamina, "logs", unique_name)
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [f"lamina: no logs for {unique_name} yet"]


def test_logs_follow(lamina, deployed):
    follower = subprocess.Popen(
        [sys.executable, "-m", "lamina.cli", "logs", deployed, "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(lamina),
        cwd=ROOT,
        # Ctrl-C as a terminal sends it, even when this test runs with SIGINT ignored (nohup,
        # setsid, CI without a terminal): an ignored SIGINT is inherited across exec.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(line.decode() for line in follower.stdout), daemon=True)
    reader.start()
    try:
        ok(run_cli(lamina, "invoke", deployed, '{"marker": "first"}'))
        wait_for_output(lambda: any('handled {"marker": "first"}' in line for line in seen), "the first line")
        ok(run_cli(lamina, "invoke", deployed, '{"marker": "second"}'))
        wait_for_output(lambda: any('handled {"marker": "second"}' in line for line in seen), "the second line")
        assert follower.poll() is None, "--follow keeps running"
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            follower.wait(timeout=10)
        except subprocess.TimeoutExpired:
            follower.kill()
            follower.wait()
        reader.join(timeout=5)
    assert follower.returncode == 130  # Ctrl-C is a clean stop, not a traceback
    assert b"Traceback" not in follower.stderr.read()
    # Nothing is printed twice though every poll re-reads from the last timestamp.
    firsts = [line for line in seen if 'handled {"marker": "first"}' in line]
    assert len(firsts) == 1, seen


# --- serve ----------------------------------------------------------------------------------


def _serve(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lamina.cli", "serve", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _health(port: int, process: subprocess.Popen) -> dict:
    def attempt():
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read().decode()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_lamina/health", timeout=1) as response:
                return json.loads(response.read())
        except OSError:
            return None

    return wait_for_output(attempt, f"health on port {port}", seconds=30)


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired as timeout:
        process.kill()
        process.wait()
        raise AssertionError("the server did not stop on SIGTERM") from timeout


@pytest.mark.parametrize("how", ["flags", "environment"])
def test_serve_honours_port_and_data_dir(tmp_path, how):
    port = free_port()
    data_dir = tmp_path / "data"
    env = dict(os.environ, LAMINA_LOG_LEVEL="warning")
    env.pop("LAMINA_PORT", None)
    env.pop("LAMINA_DATA_DIR", None)
    if how == "flags":
        # Flags win over the environment.
        env.update(LAMINA_PORT=str(free_port()), LAMINA_DATA_DIR=str(tmp_path / "not-this-one"))
        process = _serve(["--port", str(port), "--data-dir", str(data_dir)], env)
    else:
        env.update(LAMINA_PORT=str(port), LAMINA_DATA_DIR=str(data_dir))
        process = _serve([], env)
    try:
        assert _health(port, process)["status"] == "running"
        assert (data_dir / "lamina.db").exists()
        assert not (tmp_path / "not-this-one").exists()
    finally:
        _stop(process)
    banner = process.stdout.read().decode()
    assert f"Lamina listening on http://127.0.0.1:{port} (data in {data_dir})" in banner
    assert "Traceback" not in banner


def _client_env(**more) -> dict:
    """A shell that knows nothing of any Lamina: no endpoint, no port, no credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMINA_", "AWS_"))}
    env.update(more)
    return env


def _listening_elsewhere():
    """A socket holding a port, as some other program would."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


def test_serve_on_a_taken_port_is_one_clear_line(tmp_path):
    with _listening_elsewhere() as holder:
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "lamina.cli", "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            timeout=60,
            env=_client_env(),
            cwd=ROOT,
        )
    assert result.returncode == 1
    assert result.stdout == b"", "nothing said to be listening"
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert f"port {port} is already in use" in lines[0]
    assert "--port" in lines[0] and "LAMINA_PORT" in lines[0]
    assert not (tmp_path / "d").exists(), "nothing started"


def test_version():
    from importlib.metadata import version

    result = subprocess.run([sys.executable, "-m", "lamina.cli", "--version"], capture_output=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"lamina {version('lamina')}"


def test_client_commands_honour_port_and_lamina_port(lamina, deployed):
    no_endpoint = _client_env(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")

    def run(*args, **env):
        return subprocess.run(
            [sys.executable, "-m", "lamina.cli", *args],
            capture_output=True,
            timeout=60,
            env=dict(no_endpoint, **env),
            cwd=ROOT,
        )

    assert deployed in ok(run("ls", "--port", str(lamina.port)))
    assert deployed in ok(run("ls", LAMINA_PORT=str(lamina.port)))
    out = ok(run("invoke", deployed, '{"via": "port"}', LAMINA_PORT=str(lamina.port)))
    assert json.loads(out)["event"] == {"via": "port"}
    # The more specific wins: --endpoint over --port, --port over the environment.
    wrong = str(free_port())
    assert deployed in ok(
        run("ls", "--port", str(lamina.port), LAMINA_PORT=wrong, LAMINA_ENDPOINT=f"http://127.0.0.1:{wrong}")
    )
    assert deployed in ok(run("ls", "--endpoint", lamina.url, "--port", wrong))
    assert deployed in ok(run("ls", LAMINA_ENDPOINT=lamina.url, LAMINA_PORT=wrong))


# --- up -------------------------------------------------------------------------------------


def _examples(tmp_path, name: str) -> str:
    """An examples folder with one app whose function is `name`."""
    app = tmp_path / "examples" / "app"
    write_function(app / "src")
    (app / "template.yaml").write_text(
        textwrap.dedent(
            f"""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  FunctionName: {name}
                  CodeUri: src/
                  Handler: app.handler
                  Runtime: python3.12
                  Environment:
                    Variables:
                      GREETING: hi
            """
        )
    )
    return str(tmp_path / "examples")


class Up:
    """`lamina up` as a subprocess, its output read as it comes."""

    def __init__(self, args: list[str], env: dict) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lamina.cli", "up", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(
            target=lambda: self.lines.extend(line.decode() for line in self.process.stdout), daemon=True
        )
        self.reader.start()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> str:
        def ready():
            if self.process.poll() is not None:
                self.reader.join(timeout=5)
                raise AssertionError(f"lamina up exited {self.process.returncode}: {self.text}")
            return "Functions:" in self.text

        wait_for_output(ready, "lamina up's tour", seconds=120)
        return self.text

    def server_pid(self) -> int:
        with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as handle:
            (pid,) = handle.read().split()
        return int(pid)

    def exit_code(self) -> int:
        """Its exit status, once it exits on its own."""
        self.process.wait(timeout=120)
        self.reader.join(timeout=10)
        return self.process.returncode

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=10)
        return self.process.returncode


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"  # exited, not yet reaped
    except FileNotFoundError:
        return True


def _printed_commands(text: str) -> dict[str, str]:
    """The commands the tour prints, as a shell would get them."""
    import re

    commands = {}
    for line in text.splitlines():
        stripped = re.sub(r"^(Its logs|Functions):\s+", "", line.strip())
        if stripped.startswith("lamina "):
            commands[stripped.split()[1]] = stripped.split("  #")[0].strip()
    aws = text[text.index("AWS_ACCESS_KEY_ID=test") :]
    commands["aws"] = aws[: aws.index("/dev/stdout") + len("/dev/stdout")]
    python = text[text.index("python - <<'PY'") :]
    commands["python"] = python[: python.index("\nPY\n") + 4]
    return commands


def test_up_on_a_port_taken_by_another_lamina_deploys_nothing(lamina, lambda_client, tmp_path, unique_name):
    up = Up(
        ["--port", str(lamina.port), "--data-dir", str(tmp_path / "d"), "--examples", _examples(tmp_path, unique_name)],
        _client_env(),
    )
    assert up.exit_code() == 1
    lines = up.text.splitlines()
    assert len(lines) == 1, lines
    assert f"port {lamina.port} is already in use" in lines[0] and "--port" in lines[0]
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=unique_name)


def test_up_tour_works_as_printed_on_any_port_and_kill_9_takes_the_server_down(tmp_path):
    port = free_port()
    data_dir = str(tmp_path / "d")
    examples = os.path.join(ROOT, "examples")
    bin_dir = os.path.dirname(sys.executable)
    # The shell of a user on another terminal: the venv's commands, no Lamina settings.
    shell = _client_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", LAMINA_LOG_LEVEL="warning")
    up = Up(
        ["--port", str(port), "--data-dir", data_dir, "--examples", examples], dict(shell, LAMINA_LOG_LEVEL="warning")
    )
    try:
        text = up.wait_ready()
        assert "created hello from" in text
        assert text.index("Lamina listening on") < text.index("Lamina is up at")
        commands = _printed_commands(text)
        assert set(commands) == {"invoke", "logs", "ls", "aws", "python"}, commands

        def sh(command: str) -> str:
            result = subprocess.run(["bash", "-c", command], capture_output=True, timeout=120, env=shell, cwd=tmp_path)
            assert result.returncode == 0, f"{command}\nexit {result.returncode}: {result.stderr.decode()}"
            return result.stdout.decode()

        for what in ("invoke", "aws", "python"):
            assert "Hello, you!" in sh(commands[what]), what
        assert "hello" in sh(commands["ls"])
        follow = commands["logs"]
        assert follow.endswith(" --follow")
        wait_for_output(lambda: "REPORT RequestId" in sh(follow.removesuffix(" --follow")), "the logs", seconds=60)

        server = up.server_pid()
        os.kill(up.process.pid, signal.SIGKILL)
        up.process.wait(timeout=30)
        wait_for_output(lambda: _gone(server), "the server to follow `lamina up`", seconds=60)
    finally:
        up.stop()
    # The port is free again, and a second `up` on the same state leaves the app alone.
    again = Up(
        ["--port", str(port), "--data-dir", data_dir, "--examples", examples], dict(shell, LAMINA_LOG_LEVEL="warning")
    )
    try:
        text = again.wait_ready()
        assert "unchanged hello from" in text
    finally:
        assert again.stop() == 0
    assert "Traceback" not in again.text


def test_up_redeploys_a_changed_example(tmp_path, unique_name):
    port = free_port()
    examples = _examples(tmp_path, unique_name)
    args = ["--port", str(port), "--data-dir", str(tmp_path / "d"), "--examples", examples]
    env = _client_env(LAMINA_LOG_LEVEL="warning")
    first = Up(args, env)
    try:
        assert f"created {unique_name} from" in first.wait_ready()
    finally:
        assert first.stop() == 0
    with open(os.path.join(examples, "app", "template.yaml")) as handle:
        template = handle.read()
    with open(os.path.join(examples, "app", "template.yaml"), "w") as handle:
        handle.write(template.replace("GREETING: hi", "GREETING: hello"))
    second = Up(args, env)
    try:
        assert f"updated {unique_name} from" in second.wait_ready()
    finally:
        assert second.stop() == 0
    with open(os.path.join(examples, "app", "src", "app.py"), "a") as handle:
        handle.write("\n# changed\n")
    third = Up(args, env)
    try:
        assert f"updated {unique_name} from" in third.wait_ready()
    finally:
        assert third.stop() == 0
    assert "Traceback" not in first.text + second.text + third.text
