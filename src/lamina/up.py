"""`lamina up`: start the server, deploy the example apps, say how to call them, keep serving.

Each folder under examples/ holds a SAM template; deploy/sam.py reads its functions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from .client import client
from .config import Settings
from .deploy.function import deploy_function
from .deploy.sam import example_functions


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_healthy(url: str, seconds: float = 30.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_lamina/health", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def up(settings: Settings, examples_dir: str) -> int:
    url = settings.endpoint_url
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
    ]
    server = subprocess.Popen(command)
    # Stopping `lamina up` (Ctrl-C or kill) stops the server it started.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if not _wait_healthy(url):
            print(f"lamina: the server did not come up on {url}", file=sys.stderr)
            return 1
        lambda_client = client("lambda", url)
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
            )
            deployed.append(config["FunctionName"])
            print(f"{action} {config['FunctionName']} from {function['directory']}")
        name = deployed[0] if deployed else "hello"
        # The aws line must run as printed with the venv's AWS CLI v1, which has no
        # --cli-binary-format (a v2 flag) and, on a fresh machine, no credentials.
        print(
            f"""
Lamina is up at {url}  (state in {os.path.abspath(settings.data_dir)}, Ctrl-C to stop)

Call the example function:

  lamina invoke {name} '{{"name": "you"}}'           # .venv/bin/lamina if the venv is not active

  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={settings.region} \\
  aws --endpoint-url {url} lambda invoke --function-name {name} \\
      --payload '{{"name": "you"}}' /dev/stdout    # AWS CLI v2: add --cli-binary-format raw-in-base64-out

  python - <<'PY'
  import boto3, json
  client = boto3.client("lambda", endpoint_url="{url}", region_name="{settings.region}",
                        aws_access_key_id="test", aws_secret_access_key="test")
  print(json.load(client.invoke(FunctionName="{name}", Payload=b'{{"name": "you"}}')["Payload"]))
  PY

Its logs:   lamina logs {name} --follow
Functions:  lamina ls
""",
            flush=True,
        )
        return server.wait()
    except KeyboardInterrupt:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
