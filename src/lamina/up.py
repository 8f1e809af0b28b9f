"""`lamina up`: start the server, deploy the example apps, say how to call them, keep serving.

Each folder under examples/ holds a SAM template; deploy/sam.py reads its functions.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from .client import client
from .config import DEFAULT_ENDPOINT, Settings
from .deploy.function import deploy_function
from .deploy.sam import example_functions
from .http.listen import CannotListen, listen

_PR_SET_PDEATHSIG = 1


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def follow_parent(parent: int) -> None:
    """In the server `lamina up` started: get SIGTERM when `up` dies, however it dies
    (`kill -9` included), and so shut down cleanly instead of living on without it."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    else:  # no parent-death signal: watch for being handed to another parent

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="lamina-up-watch", daemon=True).start()
    if os.getppid() != parent:  # `up` died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def _wait_healthy(url: str, server: subprocess.Popen, seconds: float = 60.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_lamina/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def up(settings: Settings, examples_dir: str) -> int:
    url = settings.endpoint_url
    # The port first: taken, and `up` says so and stops, rather than deploying into
    # whatever already listens there. The server inherits this very socket.
    try:
        listener = listen(settings.host, settings.port)
    except CannotListen as error:
        print(f"lamina: {error}", file=sys.stderr)
        return 1
    command = [
        sys.executable,
        "-m",
        "lamina.cli",
        "serve",
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--data-dir",
        settings.data_dir,
        "--listen-fd",
        str(listener.fileno()),
        "--parent",
        str(os.getpid()),
    ]
    # Stopping `lamina up` (Ctrl-C, kill, or kill -9: see follow_parent) stops its server.
    signal.signal(signal.SIGTERM, _interrupt)
    server = subprocess.Popen(command, pass_fds=[listener.fileno()])
    listener.close()
    try:
        if not _wait_healthy(settings.local_url, server):
            print(f"lamina: the server did not come up on {url}", file=sys.stderr)
            return 1
        lambda_client = client("lambda", settings.local_url)
        deployed = []
        for function in example_functions(examples_dir):
            action, config = deploy_function(
                lambda_client,
                function["directory"],
                function["name"],
                function["handler"],
                function["runtime"],
                function["memory"],
                function["timeout"],
                function["env"],
                only_if_changed=True,  # a restart of `make up` leaves an unchanged app alone
                iam=client("iam", settings.local_url),
            )
            deployed.append(config["FunctionName"])
            print(f"{action} {config['FunctionName']} from {function['directory']}")
        name = deployed[0] if deployed else "hello"
        # Every line below must run as printed, on any port, from another shell: the lamina
        # lines carry the endpoint unless it is the default; the aws line works with the
        # venv's AWS CLI v1 (no --cli-binary-format, a v2 flag) and no credentials set up;
        # the heredoc's body and terminator start at column 0, or python and sh reject them.
        at = "" if url == DEFAULT_ENDPOINT else f" --endpoint {url}"
        print(
            f"""
Lamina is up at {url}  (state in {os.path.abspath(settings.data_dir)}, Ctrl-C to stop)

Call the example function:

  lamina invoke{at} {name} '{{"name": "you"}}'    # .venv/bin/lamina if the venv is not active

  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={settings.region} \\
  aws --endpoint-url {url} lambda invoke --function-name {name} \\
      --payload '{{"name": "you"}}' /dev/stdout    # AWS CLI v2: add --cli-binary-format raw-in-base64-out

  python - <<'PY'
import boto3, json
client = boto3.client("lambda", endpoint_url="{url}", region_name="{settings.region}",
                      aws_access_key_id="test", aws_secret_access_key="test")
print(json.load(client.invoke(FunctionName="{name}", Payload=b'{{"name": "you"}}')["Payload"]))
PY

Its logs:   lamina logs{at} {name} --follow
Functions:  lamina ls{at}
""",
            flush=True,
        )
        return server.wait()
    except KeyboardInterrupt:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
