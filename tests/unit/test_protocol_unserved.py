"""Requests for services Lamina does not serve: which service they are for (protocol/unserved.py),
and the 501 the gateway answers in that service's protocol, read back by botocore."""

from __future__ import annotations

from functools import cache

import botocore.session
import pytest
from botocore.parsers import create_parser
from urllib3._collections import HTTPHeaderDict

from lamina.gateway import Gateway
from lamina.protocol.messages import Request, Response
from lamina.protocol.router import Router
from lamina.protocol.sigv4 import Verifier
from lamina.protocol.unserved import Catalog

from .test_protocol_gateway import FakeLambda, FakeLogs, call_asgi
from .test_protocol_requests import wire_request

SERVED = ["lambda", "logs"]


@cache
def _model(service: str):
    return botocore.session.get_session().get_service_model(service)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(SERVED)


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    verifier = Verifier({"test": ("test", "000000000000")}, "000000000000", "us-east-1")
    return Gateway(Router(SERVED), {"lambda": FakeLambda(), "logs": FakeLogs()}, verifier, "http://127.0.0.1:4566")


def plain(headers: dict[str, str], path: str = "/", method: str = "GET", body: bytes = b"") -> Request:
    return Request(method=method, path=path, raw_path=path, query_string="", headers=headers, body=body)


def botocore_reads(service: str, operation: str, response: Response, protocol: str | None = None) -> dict:
    model = _model(service)
    headers = HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name, value)
    response_dict = {"status_code": response.status, "headers": headers, "body": response.body, "context": {}}
    parser = create_parser(protocol or model.metadata["protocol"])
    return parser.parse(response_dict, model.operation_model(operation).output_shape)


# Each wire protocol once, as botocore sends it.
CALLS = [
    ("s3", "ListBuckets", {}, "rest-xml"),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, "rest-xml"),
    ("dynamodb", "ListTables", {}, "json"),
    ("ec2", "DescribeInstances", {}, "ec2"),
    ("iam", "ListUsers", {}, "query"),
    ("sts", "GetCallerIdentity", {}, "query"),
    ("apigateway", "GetRestApis", {}, "rest-json"),
    ("route53", "ListHostedZones", {}, "rest-xml"),
    ("secretsmanager", "ListSecrets", {}, "json"),
    ("arc-region-switch", "ListPlans", {}, "smithy-rpc-v2-cbor"),
]


@pytest.mark.parametrize(("service", "operation", "params", "protocol"), CALLS)
def test_signed_requests_name_their_service(catalog, service, operation, params, protocol):
    request = wire_request(service, operation, params)
    assert catalog.service_of(request) == service
    identified = catalog.identify(request)
    assert identified is not None and (identified.name, identified.protocol) == (service, protocol)


def test_services_that_sign_alike_are_told_apart(catalog):
    assert catalog.service_of(wire_request("ses", "ListIdentities", {})) == "ses"  # query
    assert catalog.service_of(wire_request("sesv2", "ListEmailIdentities", {})) == "sesv2"  # rest-json
    assert catalog.service_of(wire_request("cloudwatch", "ListDashboards", {})) == "cloudwatch"  # signs "monitoring"


def test_unsigned_requests_are_known_by_target_path_or_host(catalog):
    assert catalog.service_of(wire_request("dynamodb", "ListTables", {}, sign=False)) == "dynamodb"
    assert catalog.service_of(wire_request("arc-region-switch", "ListPlans", {}, sign=False)) == "arc-region-switch"
    assert catalog.service_of(plain({"host": "dynamodb.us-east-1.localhost:4566"})) == "dynamodb"
    assert catalog.service_of(plain({"host": "s3.localhost"})) == "s3"
    assert catalog.service_of(plain({"host": "api.ecr.eu-west-1.amazonaws.com"})) == "ecr"
    # A presigned URL carries its scope in the query string.
    presigned = Request(
        "GET", "/b/k", "/b/k", "X-Amz-Credential=test%2F20250101%2Fus-east-1%2Fs3%2Faws4_request", {"host": "x"}
    )
    assert catalog.service_of(presigned) == "s3"


def test_requests_that_name_no_service(catalog):
    for host in ("127.0.0.1:4566", "localhost", "lamina.example.com", "nothing.localhost", "[::1]:4566"):
        assert catalog.service_of(plain({"host": host})) is None
    assert catalog.service_of(plain({"x-amz-target": "Nobody_2020.DoIt"})) is None


def test_served_services_are_not_unserved(catalog):
    request = wire_request("lambda", "ListFunctions", {})
    assert catalog.service_of(request) == "lambda"
    assert catalog.identify(request) is None


@pytest.mark.parametrize(("service", "operation", "params", "protocol"), CALLS)
def test_unserved_service_is_a_501_its_sdk_reads(gateway, service, operation, params, protocol):
    response = call_asgi(gateway, wire_request(service, operation, params))
    assert response.status == 501
    parsed = botocore_reads(service, operation, response, protocol)
    assert parsed["Error"]["Code"] == "NotImplemented"
    full_name = _model(service).metadata["serviceFullName"]
    assert parsed["Error"]["Message"] == f"Lamina does not implement the {full_name} API ({service}) yet"


def test_refused_signature_of_an_unserved_service_is_in_its_protocol(gateway):
    # The XML services' code for it is SignatureDoesNotMatch, the JSON ones' InvalidSignatureException.
    for service, operation, code in (
        ("iam", "ListUsers", "SignatureDoesNotMatch"),
        ("s3", "ListBuckets", "SignatureDoesNotMatch"),
        ("dynamodb", "ListTables", "InvalidSignatureException"),
    ):
        response = call_asgi(gateway, wire_request(service, operation, {}, secret_key="wrong"))
        parsed = botocore_reads(service, operation, response)
        assert (response.status, parsed["Error"]["Code"]) == (403, code)


def test_operation_of_a_served_service_without_a_method_is_a_501(gateway):
    response = call_asgi(gateway, wire_request("lambda", "ListLayers", {}))
    parsed = botocore_reads("lambda", "ListLayers", response)
    assert response.status == 501
    assert parsed["Error"]["Code"] == "UnknownOperationException"
    assert parsed["Error"]["Message"] == "Lamina does not implement ListLayers of the AWS Lambda API (lambda) yet"


def test_request_for_no_service_keeps_its_404(gateway):
    response = call_asgi(gateway, plain({"host": "127.0.0.1:4566"}, path="/nothing"))
    assert response.status == 404
    assert b"UnknownOperationException" in response.body
    # A served service's route that does not exist is the router's 404 too.
    request = wire_request("lambda", "ListFunctions", {})
    response = call_asgi(gateway, plain(request.headers, path="/2015-03-31/nothing"))
    assert response.status in (403, 404)  # the signature covered another path
