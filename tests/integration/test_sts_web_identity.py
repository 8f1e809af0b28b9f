"""STS AssumeRoleWithWebIdentity with IAM OpenID Connect providers, against a real server
and a real (tiny) OpenID Connect issuer: the provider API and its errors; a token the role's
trust policy accepts gives a session that acts as the role; AWS's refusals (wrong audience,
unknown issuer, expired, bad signature, trust conditions unmet, issuer unreachable); and
boto3's own AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN flow.

The issuer runs on http://127.0.0.1:<port>: Lamina accepts an http provider URL for a
loopback host only (AWS wants https everywhere)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import free_port

ACCOUNT = "000000000000"
CLIENT_ID = "lamina-app"


class Issuer:
    """An OpenID Connect issuer: discovery and a JWKS for every path prefix (each prefix a
    distinct issuer URL, so each test can register its own provider)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path.endswith("/.well-known/openid-configuration"):
                    prefix = path[: -len("/.well-known/openid-configuration")]
                    body = {"issuer": issuer.base + prefix, "jwks_uri": f"{issuer.base}{prefix}/jwks"}
                elif path.endswith("/jwks"):
                    issuer.fetches += 1
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key()))
                    body = {"keys": [{**jwk, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token(self, iss: str, key=None, kid: str | None = None, **claims) -> str:
        now = int(time.time())
        body = {"iss": iss, "sub": "user-1", "aud": CLIENT_ID, "iat": now, "exp": now + 600, **claims}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def issuer():
    server = Issuer()
    yield server
    server.close()


def _client(lamina, service, **credentials):
    return boto3.client(
        service,
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id=credentials.get("key", "test"),
        aws_secret_access_key=credentials.get("secret", "test"),
        aws_session_token=credentials.get("token"),
        config=Config(retries={"max_attempts": 1}),
    )


def _unsigned_sts(lamina):
    return boto3.client(
        "sts",
        endpoint_url=lamina.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def _error(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return {**caught.value.response["Error"], "Status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]}


@pytest.fixture
def federated(lamina, issuer):
    """A provider for a fresh issuer URL, and a role its users with sub "user-1" may assume,
    allowed sqs:ListQueues and nothing else. -> (issuer URL, role ARN, provider ARN)"""
    iam = _client(lamina, "iam")
    suffix = uuid.uuid4().hex[:8]
    url = f"{issuer.base}/t-{suffix}"
    provider = iam.create_open_id_connect_provider(Url=url, ClientIDList=[CLIENT_ID])["OpenIDConnectProviderArn"]
    prefix = url.removeprefix("http://")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{prefix}:sub": "user-1", f"{prefix}:aud": CLIENT_ID}},
            }
        ],
    }
    name = f"web-{suffix}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="queues", PolicyDocument=json.dumps(policy))
    yield url, role["Role"]["Arn"], provider
    iam.delete_role_policy(RoleName=name, PolicyName="queues")
    iam.delete_role(RoleName=name)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)


# --- the provider API ----------------------------------------------------------------------


def test_openid_connect_providers_are_managed_as_on_aws(lamina):
    iam = _client(lamina, "iam")
    host = f"oidc-{uuid.uuid4().hex[:8]}.example.com"
    url = f"https://{host}/id/ABC"
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}/id/ABC"
    created = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["A" * 40], Tags=[{"Key": "team", "Value": "x"}]
    )
    assert created["OpenIDConnectProviderArn"] == arn
    assert created["Tags"] == [{"Key": "team", "Value": "x"}]
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == f"{host}/id/ABC"  # without the scheme, as AWS answers
    assert got["ClientIDList"] == ["sts.amazonaws.com"] and got["ThumbprintList"] == ["a" * 40]
    assert got["Tags"] == [{"Key": "team", "Value": "x"}] and got["CreateDate"]
    assert {"Arn": arn} in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]

    error = _error(lambda: iam.create_open_id_connect_provider(Url=url, ClientIDList=["a"]))
    assert (error["Code"], error["Status"]) == ("EntityAlreadyExists", 409)
    assert error["Message"] == f"Provider with url {url} already exists."
    error = _error(lambda: iam.create_open_id_connect_provider(Url=f"http://{host}"))
    assert (error["Code"], error["Status"]) == ("InvalidInput", 400)
    assert error["Message"] == "Invalid Open ID Connect Provider URL. The URL must begin with https://."
    error = _error(lambda: iam.create_open_id_connect_provider(Url=f"https://{host}/x?a=b"))
    assert error["Code"] == "InvalidInput"
    error = _error(lambda: iam.create_open_id_connect_provider(Url=f"https://{host}/y", ThumbprintList=["b" * 40] * 6))
    assert (error["Code"], error["Message"]) == ("InvalidInput", "Thumbprint list must contain fewer than 5 entries.")

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-2")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-2")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["c" * 40])
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["app-2"] and got["ThumbprintList"] == ["c" * 40]
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"}
    ]

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    error = _error(lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    assert (error["Code"], error["Status"]) == ("NoSuchEntity", 404)
    assert error["Message"] == f"OpenIDConnect Provider not found for arn {arn}"
    error = _error(lambda: iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    assert (error["Code"], error["Status"]) == ("NoSuchEntity", 404)
    assert {"Arn": arn} not in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]


def test_providers_survive_a_restart(lamina_factory):
    server = lamina_factory()
    iam = _client(server, "iam")
    arn = iam.create_open_id_connect_provider(Url="https://kept.example.com", ClientIDList=["a"])[
        "OpenIDConnectProviderArn"
    ]
    server.restart()
    iam = _client(server, "iam")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["a"]


# --- AssumeRoleWithWebIdentity ---------------------------------------------------------------


def test_a_trusted_token_gives_a_session_that_acts_as_the_role(lamina, issuer, federated):
    url, role_arn, _ = federated
    token = issuer.token(url)
    answer = _unsigned_sts(lamina).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="alice", WebIdentityToken=token, DurationSeconds=3600
    )
    role_name = role_arn.rsplit("/", 1)[1]
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/alice"
    assert answer["SubjectFromWebIdentityToken"] == "user-1"
    assert answer["Provider"] == url and answer["Audience"] == CLIENT_ID
    assert answer["AssumedRoleUser"]["Arn"] == session_arn
    assert answer["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    issued = answer["Credentials"]
    assert issued["AccessKeyId"].startswith("ASIA")
    session = dict(key=issued["AccessKeyId"], secret=issued["SecretAccessKey"], token=issued["SessionToken"])

    assert _client(lamina, "sts", **session).get_caller_identity()["Arn"] == session_arn
    assert "ResponseMetadata" in _client(lamina, "sqs", **session).list_queues()  # the role's policy allows it
    error = _error(lambda: _client(lamina, "lambda", **session).list_functions())  # it allows nothing else
    assert error["Code"] == "AccessDeniedException" and session_arn in error["Message"]


def test_a_session_policy_caps_the_session(lamina, issuer, federated):
    url, role_arn, _ = federated
    deny_all = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    )
    answer = _unsigned_sts(lamina).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="capped", WebIdentityToken=issuer.token(url), Policy=deny_all
    )
    assert answer["PackedPolicySize"] >= 1
    issued = answer["Credentials"]
    session = dict(key=issued["AccessKeyId"], secret=issued["SecretAccessKey"], token=issued["SessionToken"])
    assert _error(lambda: _client(lamina, "sqs", **session).list_queues())["Code"] == "AccessDenied"


def test_tokens_aws_would_refuse_are_refused_with_its_codes(lamina, issuer, federated):
    url, role_arn, _ = federated
    sts = _unsigned_sts(lamina)

    def assume(token, **more):
        return _error(
            lambda: sts.assume_role_with_web_identity(
                RoleArn=role_arn, RoleSessionName="s1", WebIdentityToken=token, **more
            )
        )

    error = assume(issuer.token(url, aud="someone-else"))
    assert (error["Code"], error["Message"], error["Status"]) == (
        "InvalidIdentityToken",
        "Incorrect token audience",
        400,
    )

    error = assume(issuer.token("https://unknown.example.com"))
    assert error["Code"] == "InvalidIdentityToken"
    assert error["Message"] == "No OpenIDConnect provider found in your account for https://unknown.example.com"

    past = int(time.time()) - 600
    error = assume(issuer.token(url, iat=past - 600, exp=past))
    assert error["Code"] == "ExpiredTokenException"
    assert error["Message"].startswith("Token expired: current date/time ")
    assert error["Message"].endswith(f"must be before the expiration date/time{past}")

    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    error = assume(issuer.token(url, key=impostor))  # same kid, another key
    assert error["Code"] == "InvalidIdentityToken"

    error = assume("not-a-jwt")
    assert error["Code"] == "InvalidIdentityToken"

    error = assume(issuer.token(url, sub="user-2"))  # the trust policy wants user-1
    assert (error["Code"], error["Status"]) == ("AccessDenied", 403)
    assert error["Message"] == "Not authorized to perform sts:AssumeRoleWithWebIdentity"

    error = assume(issuer.token(url), DurationSeconds=7201)  # the role's MaxSessionDuration is 7200
    assert error["Code"] == "ValidationError"

    wrong_role = role_arn + "-missing"
    error = _error(
        lambda: sts.assume_role_with_web_identity(
            RoleArn=wrong_role, RoleSessionName="s1", WebIdentityToken=issuer.token(url)
        )
    )
    assert error["Code"] == "AccessDenied"


def test_an_unreachable_issuer_is_an_idp_communication_error(lamina, issuer):
    iam = _client(lamina, "iam")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    provider = iam.create_open_id_connect_provider(Url=url, ClientIDList=[CLIENT_ID])["OpenIDConnectProviderArn"]
    try:
        error = _error(
            lambda: _unsigned_sts(lamina).assume_role_with_web_identity(
                RoleArn=f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
                RoleSessionName="s1",
                WebIdentityToken=issuer.token(url),
            )
        )
        assert (error["Code"], error["Status"]) == ("IDPCommunicationError", 400)
    finally:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)


def test_boto3_assumes_the_role_from_a_token_file(lamina, issuer, federated, tmp_path, monkeypatch):
    url, role_arn, _ = federated
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token(url))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ROLE_ARN", role_arn)
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "from-file")
    monkeypatch.setenv("AWS_ENDPOINT_URL", lamina.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    session = boto3.Session()
    assert session.get_credentials().method == "assume-role-with-web-identity"
    identity = session.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_arn.rsplit('/', 1)[1]}/from-file"
    assert "ResponseMetadata" in session.client("sqs").list_queues()
