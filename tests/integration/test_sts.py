"""STS: who the caller is, temporary credentials and their checks (token, expiry, clock),
presigned requests, with boto3 and the AWS CLI."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

AWS = os.path.join(os.path.dirname(sys.executable), "aws")
ACCOUNT = "000000000000"


def client(lamina, service: str, key="test", secret="test", token=None):
    return boto3.client(
        service,
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def test_root_keys_are_their_accounts_root(lamina):
    identity = client(lamina, "sts").get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (
        ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:root",
        ACCOUNT,
    )


def test_the_aws_cli_asks_who_it_is(lamina):
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=lamina.url,
    )
    done = subprocess.run([AWS, "sts", "get-caller-identity"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_session_credentials_act_as_their_caller(lamina):
    issued = client(lamina, "sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert issued["AccessKeyId"].startswith("ASIA") and len(issued["AccessKeyId"]) == 20
    assert len(issued["SecretAccessKey"]) == 40 and issued["SessionToken"]
    left = issued["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=13) < left <= datetime.timedelta(minutes=15)
    session = dict(key=issued["AccessKeyId"], secret=issued["SecretAccessKey"], token=issued["SessionToken"])
    assert client(lamina, "sts", **session).get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert "Functions" in client(lamina, "lambda", **session).list_functions()
    info = client(lamina, "sts").get_access_key_info(AccessKeyId=issued["AccessKeyId"])
    assert info["Account"] == ACCOUNT
    # A session's credentials cannot make another session.
    with pytest.raises(ClientError) as caught:
        client(lamina, "sts", **session).get_session_token()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_a_tampered_or_missing_token_is_refused_in_each_protocol(lamina):
    issued = client(lamina, "sts").get_session_token()["Credentials"]
    token = issued["SessionToken"]
    forged = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    for service, call, code in (
        ("sts", "get_caller_identity", "InvalidClientTokenId"),
        ("lambda", "list_functions", "UnrecognizedClientException"),
    ):
        for bad in (forged, None):
            with pytest.raises(ClientError) as caught:
                getattr(client(lamina, service, issued["AccessKeyId"], issued["SecretAccessKey"], bad), call)()
            error = caught.value.response["Error"]
            assert (error["Code"], error["Message"]) == (code, "The security token included in the request is invalid.")


def _send(lamina, request: AWSRequest) -> tuple[int, bytes]:
    prepared = request.prepare()
    http = urllib.request.Request(
        prepared.url, data=prepared.body, headers=dict(prepared.headers), method=prepared.method
    )
    try:
        with urllib.request.urlopen(http, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_request_signed_20_minutes_ago_is_refused(lamina, monkeypatch):
    class Then(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return super().utcnow() - datetime.timedelta(minutes=20)

        @classmethod
        def now(cls, tz=None):
            return super().now(tz) - datetime.timedelta(minutes=20)

    request = AWSRequest(method="GET", url=f"{lamina.url}/2015-03-31/functions/", data=b"")
    monkeypatch.setattr(botocore.auth.datetime, "datetime", Then)
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
    monkeypatch.undo()
    status, body = _send(lamina, request)
    assert status == 403
    error = json.loads(body)
    assert error["message"].startswith("Signature expired: ") and error["message"].endswith(" - 15 min.)")


def test_a_presigned_get_caller_identity_url_works(lamina):
    # How EKS and Vault prove an identity: a presigned sts:GetCallerIdentity, sent by someone else.
    url = client(lamina, "sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read().decode()
    assert f"<Arn>arn:aws:iam::{ACCOUNT}:root</Arn>" in body
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(tampered, timeout=30)
    assert caught.value.code == 403 and b"SignatureDoesNotMatch" in caught.value.read()


def test_temporary_credentials_outlive_a_restart(lamina_factory):
    server = lamina_factory()
    issued = client(server, "sts").get_session_token()["Credentials"]
    session = dict(key=issued["AccessKeyId"], secret=issued["SecretAccessKey"], token=issued["SessionToken"])
    server.restart(kill=True)
    assert client(server, "sts", **session).get_caller_identity()["Account"] == ACCOUNT


def test_expired_temporary_credentials_are_refused_in_each_protocol(lamina):
    """Credentials past their Expiration (sealed with the server's own key, so nothing but
    their age is wrong) are refused with AWS's expired-token codes."""
    import time

    from lamina.identity.principals import Principal
    from lamina.identity.tokens import Sealer

    sealer = Sealer.from_file(os.path.join(lamina.data_dir, "identity.key"))
    session = Principal(
        "000000000000",
        "arn:aws:iam::000000000000:root",
        "000000000000",
        expires=time.time() - 1,
    )
    issued = sealer.issue(session)
    for service, call, code in (
        ("sts", "get_caller_identity", "ExpiredToken"),
        ("lambda", "list_functions", "ExpiredTokenException"),
    ):
        with pytest.raises(ClientError) as caught:
            getattr(
                client(lamina, service, issued.access_key_id, issued.secret_access_key, issued.session_token), call
            )()
        error = caught.value.response["Error"]
        assert (error["Code"], error["Message"]) == (code, "The security token included in the request is expired")
    # The same claims, still valid, are accepted: only the expiry was wrong.
    fresh = sealer.issue(
        Principal("000000000000", "arn:aws:iam::000000000000:root", "000000000000", expires=time.time() + 60)
    )
    identity = client(
        lamina, "sts", fresh.access_key_id, fresh.secret_access_key, fresh.session_token
    ).get_caller_identity()
    assert identity["Account"] == "000000000000"
