"""Shared fixtures: a real Lamina server on a free port, boto3 clients, zip helpers.

`lamina` is one server for the whole session; `lamina_factory` starts private ones (for
restart and kill -9 tests). Servers run as real subprocesses with their own data dir.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.parse
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

# The services that act as ROLE in the tests: Lambda (a function's execution role, its
# destinations), EventBridge Scheduler (a schedule's RoleArn) and EventBridge (a target's RoleArn).
ROLE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "scheduler.amazonaws.com", "events.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def remove_bucket(s3, name: str) -> None:
    """Every version and delete marker of the bucket deleted, then the bucket (a fixture's
    teardown)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=name)


def ensure_role(iam, name: str = "lambda-role") -> str:
    """The role the tests' functions, schedules and EventBridge targets use (ROLE): trusting
    Lambda, EventBridge Scheduler and EventBridge, allowed everything, so that what a test's
    function calls or a schedule sends is not the test's subject. A role already there (a
    restarted server's data dir) is given this trust policy too."""
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        pass
    else:
        trust = role["AssumeRolePolicyDocument"]  # botocore decodes it
        if (json.loads(urllib.parse.unquote(trust)) if isinstance(trust, str) else trust) != json.loads(ROLE_TRUST):
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=ROLE_TRUST)
        return role["Arn"]
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=ROLE_TRUST)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    return arn


# --- letting an AWS service deliver -----------------------------------------------------------------
# What AWS's documentation has a user write so that SNS (a subscription), EventBridge (a rule's
# target) or another service may send to their queue or publish to their topic: a statement for
# the service principal, conditioned on aws:SourceArn (the topic, the rule).

SNS = "sns.amazonaws.com"
EVENTS = "events.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"


def service_statement(
    service_principal: str | list[str], action: str, resource: str, source_arn: str | list[str] | None = None
) -> dict:
    """One Allow statement for a service principal, for `source_arn` (one or several) if given."""
    statement: dict = {
        "Effect": "Allow",
        "Principal": {"Service": service_principal},
        "Action": action,
        "Resource": resource,
    }
    if source_arn:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    return statement


def queue_policy_for(
    service_principal: str | list[str], queue_arn: str, source_arn: str | list[str] | None = None
) -> str:
    """A queue policy letting the service send (sqs:SendMessage) for `source_arn`: the JSON for
    create_queue's or set_queue_attributes' Policy attribute."""
    statement = service_statement(service_principal, "sqs:SendMessage", queue_arn, source_arn)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def topic_policy_for(
    service_principal: str | list[str], topic_arn: str, source_arn: str | list[str] | None = None
) -> str:
    """A topic policy letting the service publish (sns:Publish) for `source_arn`: the JSON for
    set_topic_attributes(AttributeName="Policy")."""
    statement = service_statement(service_principal, "sns:Publish", topic_arn, source_arn)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def allow_service(
    client, target_arn: str, service_principal: str | list[str], source_arn: str | list[str] | None = None
) -> None:
    """Adds to the target's resource policy (a queue's, through an SQS client; a topic's, through
    an SNS client; a function's, through a Lambda client) a statement letting the service deliver
    to it for `source_arn`; the statements already there (SNS's default ones) stay."""
    service = client.meta.service_model.service_name
    if service == "lambda":
        sources = source_arn if isinstance(source_arn, list) else [source_arn]
        principals = service_principal if isinstance(service_principal, list) else [service_principal]
        for principal in principals:
            for source in sources:
                more = {"SourceArn": source} if source else {}
                client.add_permission(
                    FunctionName=target_arn,
                    StatementId=f"allow-{principal.split('.')[0]}-{next(_statement_ids)}",
                    Action="lambda:InvokeFunction",
                    Principal=principal,
                    **more,
                )
        return
    if service == "sqs":
        _, _, _, _, account, name = target_arn.split(":", 5)
        url = client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        current = client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
        statement = service_statement(service_principal, "sqs:SendMessage", target_arn, source_arn)
        policy = json.loads(current["Policy"]) if current.get("Policy") else {"Version": "2012-10-17", "Statement": []}
        policy["Statement"] = _statements(policy) + [statement]
        client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        return
    if service == "sns":
        current = client.get_topic_attributes(TopicArn=target_arn)["Attributes"].get("Policy")
        statement = service_statement(service_principal, "sns:Publish", target_arn, source_arn)
        policy = json.loads(current) if current else {"Version": "2012-10-17", "Statement": []}
        policy["Statement"] = _statements(policy) + [statement]
        client.set_topic_attributes(TopicArn=target_arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
        return
    raise ValueError(f"allow_service: no resource policy through a {service} client")


_statement_ids = itertools.count(1)


def _statements(policy: dict) -> list:
    statements = policy.get("Statement") or []
    return statements if isinstance(statements, list) else [statements]


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

    def client(self, service: str = "lambda", region_name: str = "us-east-1", **config):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region_name,
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


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory) -> dict:
    """The AWS CLI's environment: Lamina's test keys and region, no config of the user's."""
    home = tmp_path_factory.mktemp("home")
    (home / "config").write_text("[default]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_PAGER="",
    )
    return env
