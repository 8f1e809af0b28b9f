"""SigV4 verification against requests signed by botocore's own SigV4Auth."""

from __future__ import annotations

import hashlib

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
