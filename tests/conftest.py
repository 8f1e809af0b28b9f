"""Shared fixtures: a real Lamina server on a free port, boto3 clients, zip helpers.

`lamina` is one server for the whole session; `lamina_factory` starts private ones (for
restart and kill -9 tests). Servers run as real subprocesses with their own data dir.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_zip(files: dict[str, str | bytes]) -> bytes:
    """A deployment package from {path: source}; sources are dedented."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            if isinstance(content, str):
                content = textwrap.dedent(content).lstrip("\n")
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o755 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def ensure_role(iam, name: str = "lambda-role") -> str:
    """The execution role the tests' functions use (ROLE): trusting Lambda, allowed
    everything, so that what a test's function calls is not the test's subject."""
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        pass
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    return arn


@dataclass
class LaminaServer:
    data_dir: str
    port: int = field(default_factory=free_port)
    env: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LaminaServer:
        env = {**os.environ, "LAMINA_ASYNC_RETRY_DELAYS": "0.2,0.4", "LAMINA_LOG_LEVEL": "warning", **self.env}
        log = open(os.path.join(self.data_dir, "server.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lamina.cli", "serve", "--port", str(self.port), "--data-dir", self.data_dir],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_lamina/health", timeout=1):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            ensure_role(self.client("iam"))
            return self
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        try:
            with open(os.path.join(self.data_dir, "server.log"), errors="replace") as handle:
                return handle.read()[-5000:]
        except OSError:
            return ""

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.send_signal(signal.SIGKILL)
        else:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self, kill: bool = True) -> LaminaServer:
        self.stop(kill=kill)
        return self.start()

    def client(self, service: str = "lambda", **config):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, read_timeout=120, **config),
        )


@pytest.fixture(scope="session")
def lamina(tmp_path_factory):
    server = LaminaServer(str(tmp_path_factory.mktemp("lamina"))).start()
    yield server
    server.stop()


@pytest.fixture
def lamina_factory(tmp_path):
    servers = []

    def start(**env) -> LaminaServer:
        server = LaminaServer(str(tmp_path / f"server{len(servers)}"), env=env)
        os.makedirs(server.data_dir, exist_ok=True)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop(kill=True)


@pytest.fixture
def lambda_client(lamina):
    return lamina.client("lambda")


@pytest.fixture
def logs_client(lamina):
    return lamina.client("logs")


@pytest.fixture
def sqs(lamina):
    return lamina.client("sqs")


@pytest.fixture
def kinesis(lamina):
    return lamina.client("kinesis")


@pytest.fixture
def queue(sqs, unique_name):
    """queue(suffix="", **attributes) -> (url, arn) of a fresh queue; FIFO if the suffix ends in .fifo."""
    made = []

    def make(suffix: str = "", **attributes) -> tuple[str, str]:
        wanted = {k: str(v) for k, v in attributes.items()}
        if suffix.endswith(".fifo"):
            wanted["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=f"{unique_name}{suffix}", Attributes=wanted)["QueueUrl"]
        made.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    yield make
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture
def mappings(lambda_client):
    """Deletes the mappings a test made, so their pollers stop with the test."""
    made: list[str] = []

    def create(**params) -> dict:
        mapping = lambda_client.create_event_source_mapping(**params)
        made.append(mapping["UUID"])
        return mapping

    yield create
    for mapping_id in made:
        try:
            lambda_client.delete_event_source_mapping(UUID=mapping_id)
        except ClientError:
            pass


_counter = [0]


@pytest.fixture
def unique_name(request):
    _counter[0] += 1
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40].strip("-")
    return f"{base}-{_counter[0]}"


@pytest.fixture
def create_function(lambda_client, unique_name):
    """create_function(code={'app.py': ...}, handler='app.handler', **more) -> configuration."""

    def create(code: dict | bytes | None = None, handler: str = "app.handler", name: str | None = None, **more):
        if code is None:
            code = {"app.py": "def handler(event, context):\n    return event\n"}
        zip_bytes = code if isinstance(code, bytes) else make_zip(code)
        params = dict(
            FunctionName=name or unique_name,
            Runtime="python3.12",
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": zip_bytes},
        )
        params.update(more)
        return lambda_client.create_function(**params)

    return create
