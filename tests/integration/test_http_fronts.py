"""Front processes (LAMINA_HTTP_WORKERS): HTTP, SigV4 and the AWS protocols in processes of
their own beside the core. A call that crosses the link must answer exactly as one that
does not; a front dies with the core; the core serves on its own if its fronts die.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import wait_until

CODE = make_zip(
    {
        "app.py": """
    def handler(event, context):
        if event.get("fail"):
            raise ValueError("asked to fail")
        print(f"ran {context.aws_request_id}")
        return {"echo": event, "size": len(event.get("blob", ""))}
    """
    }
)


def fronts_of(server) -> list[int]:
    """The front processes' pids, as the server's health check lists them."""
    return health(server)["fronts"]


def _name(pid: int) -> str:
    with open(f"/proc/{pid}/comm") as handle:
        return handle.read().strip()


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def health(server) -> dict:
    with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=5) as response:
        return json.loads(response.read())


def create(client, name: str) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        MemorySize=256,
    )


@pytest.fixture
def fronted(lamina_factory):
    server = lamina_factory(LAMINA_HTTP_WORKERS="2")
    assert len(fronts_of(server)) == 2
    assert all(_name(pid) == "lamina-front" and _parent(pid) == server.process.pid for pid in fronts_of(server))
    return server


def test_calls_through_fronts_answer_as_the_core_would(fronted):
    client = fronted.client("lambda")
    create(client, "f")
    answer = client.invoke(FunctionName="f", Payload=json.dumps({"a": 1}), LogType="Tail")
    assert answer["StatusCode"] == 200
    assert json.loads(answer["Payload"].read()) == {"echo": {"a": 1}, "size": 0}
    assert "REPORT RequestId" in base64.b64decode(answer["LogResult"]).decode()

    # A function error keeps its header and payload; a service error its code and status.
    failed = client.invoke(FunctionName="f", Payload=json.dumps({"fail": True}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"
    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="nope", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as invalid:
        client.put_function_concurrency(FunctionName="f", ReservedConcurrentExecutions=5000)
    assert invalid.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert invalid.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    # A payload of ~5 MB crosses the link both ways.
    blob = "x" * (5 * 1024 * 1024)
    big = client.invoke(FunctionName="f", Payload=json.dumps({"blob": blob}))
    assert json.loads(big["Payload"].read())["size"] == len(blob)

    # Event invokes are accepted by the core (durably) and run.
    for _ in range(20):
        assert client.invoke(FunctionName="f", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    wait_until(lambda: health(fronted)["async_queue_depth"] == 0, timeout=30)

    # Other protocols (query, json) and Lamina's own paths go through the fronts too.
    sqs = fronted.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "hello"
    assert health(fronted)["status"] == "running"

    def metrics() -> bytes:
        with urllib.request.urlopen(f"{fronted.url}/metrics", timeout=5) as response:
            return response.read()

    wait_until(lambda: b'lamina_lambda_invocations_total{function="f"}' in metrics(), timeout=10)


def test_unsigned_and_badly_signed_requests_are_refused_in_the_front(fronted):
    request = urllib.request.Request(
        f"{fronted.url}/2015-03-31/functions/f/invocations",
        data=b"{}",
        method="POST",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"
            "lambda/aws4_request, SignedHeaders=host, Signature=00",
            "X-Amz-Date": "20260101T000000Z",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
    assert refused.value.headers.get("x-amzn-ErrorType", "").startswith("InvalidSignatureException")


def test_fronts_die_with_a_killed_core_and_the_port_comes_back(fronted):
    client = fronted.client("lambda")
    create(client, "f")
    for _ in range(50):
        client.invoke(FunctionName="f", InvocationType="Event", Payload=b"{}")
    fronts = fronts_of(fronted)
    fronted.stop(kill=True)
    wait_until(lambda: not any(alive(pid) for pid in fronts), timeout=5)
    fronted.start()  # the same port, with new fronts
    assert len(fronts_of(fronted)) == 2
    wait_until(lambda: health(fronted)["async_queue_depth"] == 0, timeout=30)
    assert fronted.client("lambda").invoke(FunctionName="f", Payload=b"{}")["StatusCode"] == 200


def test_the_core_serves_alone_once_its_fronts_are_gone(fronted):
    client = fronted.client("lambda")
    create(client, "f")
    fronts = fronts_of(fronted)
    for pid in fronts:
        os.kill(pid, signal.SIGKILL)

    def served() -> bool:
        try:
            return fresh.invoke(FunctionName="f", Payload=b"{}")["StatusCode"] == 200
        except Exception:  # noqa: BLE001 - connections of the dead fronts fail until the core listens
            return False

    fresh = fronted.client("lambda")
    wait_until(served, timeout=10)
    assert fronted.process.poll() is None
    assert "no front process left" in fronted.log()
    # The core waited for them: no zombie is left in the process table.
    wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in fronts), timeout=5)


def test_sigterm_stops_the_core_and_its_fronts(fronted):
    fronts = fronts_of(fronted)
    process = fronted.process
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    deadline = time.time() + 5
    while time.time() < deadline and any(alive(pid) for pid in fronts):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in fronts)
    fronted.process = None


def test_an_iam_users_keys_work_through_the_fronts(fronted):
    # Fronts know root keys and sessions; the core shares IAM users' keys with them as they
    # change (a key a front has not been given yet is resolved by the core).
    iam = fronted.client("iam")
    iam.create_user(UserName="fronted")
    iam.put_user_policy(
        UserName="fronted",
        PolicyName="list",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="fronted")["AccessKey"]
    user = boto3.client(
        "lambda",
        endpoint_url=fronted.url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    assert "Functions" in user.list_functions()
    with pytest.raises(ClientError) as denied:
        user.get_account_settings()
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    stranger = boto3.client(
        "lambda",
        endpoint_url=fronted.url,
        region_name="us-east-1",
        aws_access_key_id="AKIANOBODYKNOWSTHIS",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as unknown:
        stranger.list_functions()
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"
    # A deactivated, then deleted, key stops working in every front once IAM's change has
    # reached them (a moment, as on AWS).
    iam.update_access_key(UserName="fronted", AccessKeyId=key["AccessKeyId"], Status="Inactive")

    def refused() -> bool:
        try:
            user.list_functions()
        except ClientError as error:
            return error.response["Error"]["Code"] == "UnrecognizedClientException"
        return False

    assert all(wait_until(refused, timeout=5, what="the inactive key refused") for _ in range(6))
    iam.update_access_key(UserName="fronted", AccessKeyId=key["AccessKeyId"], Status="Active")
    assert "Functions" in user.list_functions()  # active again at once (the core knows it)
    iam.delete_access_key(UserName="fronted", AccessKeyId=key["AccessKeyId"])
    assert all(wait_until(refused, timeout=5, what="the deleted key refused") for _ in range(6))


def test_an_s3_upload_streams_through_a_front_to_the_core(fronted):
    """A front reads the upload (aws-chunked, with boto3's trailing checksum) and relays it
    to the core's S3 as S3 reads it: the object arrives whole, its checksum checked."""
    s3 = fronted.client("s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="fronted")
    data = os.urandom(1024 * 1024) * 24  # past the size that streams
    put = s3.put_object(Bucket="fronted", Key="big", Body=data, ChecksumAlgorithm="CRC32")
    assert put["ChecksumCRC32"]
    got = s3.get_object(Bucket="fronted", Key="big", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
