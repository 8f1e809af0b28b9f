"""SigV4 verification against requests signed by botocore's own SigV4Auth."""

from __future__ import annotations

import hashlib
import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lamina.errors import ServiceError
from lamina.protocol.messages import Request
from lamina.protocol.sigv4 import Verifier

from .test_protocol_requests import FUNCTION_ARN, wire_request

ACCOUNT = "000000000000"


@pytest.fixture
def verifier() -> Verifier:
    return Verifier({"test": ("test", ACCOUNT), "AKIDOTHER": ("s3cr3t/+=", "111122223333")}, ACCOUNT, "us-east-1")


def refused(verifier: Verifier, request: Request) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        verifier.verify(request)
    return caught.value


def test_signed_request_verifies(verifier):
    caller = verifier.verify(wire_request("lambda", "ListFunctions", {}))
    assert (caller.access_key, caller.account_id, caller.region, caller.service) == (
        "test",
        ACCOUNT,
        "us-east-1",
        "lambda",
    )


def test_query_string_with_special_characters(verifier):
    request = wire_request(
        "lambda",
        "ListFunctions",
        {"Marker": "a b&c=d/e+f%g~h*i'j(k)\u00e9\u2603", "MaxItems": 7, "FunctionVersion": "ALL"},
    )
    assert "%" in request.query_string
    assert verifier.verify(request).access_key == "test"


def test_uri_label_with_colons(verifier):
    request = wire_request(
        "lambda", "Invoke", {"FunctionName": FUNCTION_ARN, "Qualifier": "$LATEST", "Payload": b'{"x": 1}'}
    )
    assert verifier.verify(request).service == "lambda"
    request = wire_request("lambda", "TagResource", {"Resource": FUNCTION_ARN, "Tags": {"a": "b"}})
    assert verifier.verify(request).service == "lambda"


def test_json_protocol_request(verifier):
    request = wire_request(
        "logs",
        "PutLogEvents",
        {"logGroupName": "/aws/lambda/f", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": "hi"}]},
    )
    assert verifier.verify(request).service == "logs"


def test_other_key_maps_to_its_account_and_region(verifier):
    request = wire_request(
        "lambda", "GetAccountSettings", {}, access_key="AKIDOTHER", secret_key="s3cr3t/+=", region="eu-west-1"
    )
    caller = verifier.verify(request)
    assert (caller.account_id, caller.region) == ("111122223333", "eu-west-1")


def test_tampered_body(verifier):
    request = wire_request("lambda", "Invoke", {"FunctionName": "f", "Payload": b'{"amount": 1}'})
    request.body = b'{"amount": 1000}'
    error = refused(verifier, request)
    assert (error.code, error.status) == ("InvalidSignatureException", 403)
    assert error.message.startswith("The request signature we calculated does not match the signature you provided.")


def test_tampered_body_with_a_claimed_payload_hash(verifier):
    """A signed x-amz-content-sha256 vouches for the original body only, not for a swapped one."""
    original = b'{"amount": 1}'
    url = "http://127.0.0.1:4566/2015-03-31/functions/f/invocations"
    aws_request = AWSRequest(
        method="POST", url=url, data=original, headers={"X-Amz-Content-SHA256": hashlib.sha256(original).hexdigest()}
    )
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(aws_request)
    headers = {name.lower(): value for name, value in aws_request.headers.items()}
    headers["host"] = "127.0.0.1:4566"
    request = Request(
        "POST", "/2015-03-31/functions/f/invocations", "/2015-03-31/functions/f/invocations", "", headers, original
    )
    assert verifier.verify(request).access_key == "test"
    request.body = b'{"amount": 1000}'
    assert refused(verifier, request).code == "InvalidSignatureException"


def test_tampered_signature(verifier):
    request = wire_request("lambda", "GetFunction", {"FunctionName": "f"})
    auth = request.headers["authorization"]
    last = auth[-1]
    request.headers["authorization"] = auth[:-1] + ("0" if last != "0" else "1")
    error = refused(verifier, request)
    assert (error.code, error.status) == ("InvalidSignatureException", 403)


def test_tampered_signed_header_and_query(verifier):
    request = wire_request("lambda", "ListFunctions", {"MaxItems": 5})
    request.query_string = "MaxItems=50"
    assert refused(verifier, request).code == "InvalidSignatureException"
    request = wire_request("logs", "DescribeLogGroups", {})
    request.headers["x-amz-target"] = "Logs_20140328.DeleteLogGroup"
    assert refused(verifier, request).code == "InvalidSignatureException"


def test_wrong_secret(verifier):
    request = wire_request("lambda", "ListFunctions", {}, secret_key="not-the-secret")
    assert refused(verifier, request).code == "InvalidSignatureException"


def test_unknown_access_key(verifier):
    request = wire_request("lambda", "ListFunctions", {}, access_key="AKIDUNKNOWN")
    error = refused(verifier, request)
    assert (error.code, error.status) == ("UnrecognizedClientException", 403)
    assert error.message == "The security token included in the request is invalid."


def test_malformed_authorization_header(verifier):
    request = wire_request("lambda", "ListFunctions", {})
    request.headers["authorization"] = "AWS4-HMAC-SHA256 Credential=test"
    error = refused(verifier, request)
    assert (error.code, error.status) == ("IncompleteSignatureException", 403)


def test_unsigned_request_runs_as_the_default_account(verifier):
    caller = verifier.verify(wire_request("lambda", "ListFunctions", {}, sign=False))
    assert (caller.access_key, caller.account_id, caller.region) == ("", ACCOUNT, "us-east-1")


def test_not_enforced_serves_a_bad_signature():
    lenient = Verifier({"test": ("test", ACCOUNT)}, ACCOUNT, "us-east-1", enforce=False)
    request = wire_request("lambda", "ListFunctions", {}, secret_key="wrong")
    assert lenient.verify(request).account_id == ACCOUNT
    request = wire_request("lambda", "ListFunctions", {}, access_key="AKIDUNKNOWN")
    assert lenient.verify(request).account_id == ACCOUNT


# --- temporary credentials, the clock, presigned URLs -------------------------------------

from botocore.auth import SigV4QueryAuth  # noqa: E402

from lamina.identity.keyring import KeyRing  # noqa: E402
from lamina.identity.principals import ASSUMED_ROLE, Principal  # noqa: E402
from lamina.identity.tokens import Sealer  # noqa: E402


def _session(sealer: Sealer, expires_in: float = 3600.0):
    principal = Principal(
        "111122223333",
        "arn:aws:sts::111122223333:assumed-role/Reader/s1",
        "AROAEXAMPLE:s1",
        ASSUMED_ROLE,
        name="s1",
        role_arn="arn:aws:iam::111122223333:role/Reader",
        expires=time.time() + expires_in,
    )
    return principal, sealer.issue(principal)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing({"test": ("test", ACCOUNT)}, Sealer(b"k" * 32))


def test_temporary_credentials_verify_as_their_session(ring):
    principal, creds = _session(ring.sealer)
    request = wire_request(
        "lambda",
        "ListFunctions",
        {},
        access_key=creds.access_key_id,
        secret_key=creds.secret_access_key,
        token=creds.session_token,
    )
    caller = Verifier(ring, ACCOUNT, "us-east-1").verify(request)
    assert caller.principal == principal and caller.account_id == "111122223333"


def test_expired_tampered_and_borrowed_tokens_are_refused(ring):
    verifier = Verifier(ring, ACCOUNT, "us-east-1")
    _, old = _session(ring.sealer, expires_in=-1)
    expired = wire_request(
        "lambda",
        "ListFunctions",
        {},
        access_key=old.access_key_id,
        secret_key=old.secret_access_key,
        token=old.session_token,
    )
    error = refused(verifier, expired)
    assert (error.code, error.message) == (
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )
    _, creds = _session(ring.sealer)
    body, _, seal = creds.session_token.partition(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + seal
    tampered = wire_request(
        "lambda", "ListFunctions", {}, access_key=creds.access_key_id, secret_key=creds.secret_access_key, token=forged
    )
    assert refused(verifier, tampered).code == "UnrecognizedClientException"
    _, other = _session(ring.sealer)
    borrowed = wire_request(
        "lambda",
        "ListFunctions",
        {},
        access_key=other.access_key_id,
        secret_key=other.secret_access_key,
        token=creds.session_token,
    )
    assert refused(verifier, borrowed).code == "UnrecognizedClientException"
    no_token = wire_request("sts", "GetCallerIdentity", {}, access_key=creds.access_key_id, secret_key="x")
    assert refused(verifier, no_token).code == "InvalidClientTokenId"  # STS speaks the query protocol's codes


def test_a_request_signed_more_than_15_minutes_away_is_refused(ring):
    request = wire_request("lambda", "ListFunctions", {})
    later = Verifier(ring, ACCOUNT, "us-east-1", clock=lambda: time.time() + 16 * 60)
    error = refused(later, request)
    assert error.code == "InvalidSignatureException" and error.message.startswith("Signature expired: ")
    assert error.message.endswith(" - 15 min.)")
    earlier = Verifier(ring, ACCOUNT, "us-east-1", clock=lambda: time.time() - 16 * 60)
    assert refused(earlier, request).message.startswith("Signature not yet current: ")
    within = Verifier(ring, ACCOUNT, "us-east-1", clock=lambda: time.time() + 14 * 60)
    assert within.verify(request).account_id == ACCOUNT


def _presigned(access_key: str, secret: str, expires: int = 60, token: str | None = None) -> Request:
    url = "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15"
    aws_request = AWSRequest(method="GET", url=url, headers={"host": "127.0.0.1:4566"})
    SigV4QueryAuth(Credentials(access_key, secret, token), "sts", "us-east-1", expires=expires).add_auth(aws_request)
    prepared = aws_request.prepare()
    path, _, query = prepared.url.partition("?")
    return Request(
        method="GET", path="/", raw_path="/", query_string=query, headers={"host": "127.0.0.1:4566"}, body=b""
    )


def test_presigned_urls_are_verified(ring):
    verifier = Verifier(ring, ACCOUNT, "us-east-1")
    caller = verifier.verify(_presigned("test", "test"))
    assert caller.principal is not None and caller.principal.arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert caller.service == "sts"
    assert refused(verifier, _presigned("test", "wrong")).code == "SignatureDoesNotMatch"
    _, creds = _session(ring.sealer)
    session = verifier.verify(_presigned(creds.access_key_id, creds.secret_access_key, token=creds.session_token))
    assert session.account_id == "111122223333"
    stale = Verifier(ring, ACCOUNT, "us-east-1", clock=lambda: time.time() + 120)
    assert refused(stale, _presigned("test", "test", expires=60)).message.startswith("Signature expired: ")
