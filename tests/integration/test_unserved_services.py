"""A service Lamina does not serve answers 501 in its own protocol, naming itself, so boto3 and
the AWS CLI print a clear error (not "invalid XML received"); so does an operation of a served
service that Lamina has no method for."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

AWS = os.path.join(os.path.dirname(sys.executable), "aws")

CALLS = [
    ("route53", "list_hosted_zones", {}, "Amazon Route 53"),  # rest-xml
    ("dynamodb", "list_tables", {}, "Amazon DynamoDB"),  # json 1.0
    ("ec2", "describe_instances", {}, "Amazon Elastic Compute Cloud"),  # ec2
    ("autoscaling", "describe_auto_scaling_groups", {}, "Auto Scaling"),  # query
    ("appsync", "list_graphql_apis", {}, "AWS AppSync"),  # rest-json
    ("arc-region-switch", "list_plans", {}, "ARC - Region switch"),  # smithy-rpc-v2-cbor
]


def client(lamina, service: str, **config):
    return boto3.client(
        service,
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(**config),
    )


@pytest.mark.parametrize(("service", "operation", "params", "full_name"), CALLS)
def test_unserved_service_is_a_clear_501(lamina, service, operation, params, full_name):
    # Standard retries on: a 501 is not retried.
    with pytest.raises(ClientError) as caught:
        getattr(client(lamina, service, retries={"mode": "standard", "max_attempts": 3}), operation)(**params)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
    assert response["Error"]["Code"] == "NotImplemented"
    assert response["Error"]["Message"] == f"Lamina does not implement the {full_name} API ({service}) yet"


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("sns", "list_origination_numbers", {}),
        ("lambda", "list_capacity_providers", {}),
    ],
)
def test_operation_of_a_served_service_lamina_lacks_is_a_501(lamina, service, operation, params):
    with pytest.raises(ClientError) as caught:
        getattr(lamina.client(service), operation)(**params)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["Error"]["Code"] == "UnknownOperationException"
    wire_name = caught.value.operation_name
    assert response["Error"]["Message"].startswith(f"Lamina does not implement {wire_name} of the ")
    assert response["Error"]["Message"].endswith(f"({service}) yet")


def test_a_request_for_an_unserved_service_never_reaches_a_served_route(lamina):
    # GET /schedules is Scheduler's ListSchedules: signed for Route 53, which Lamina does not
    # serve, it is Route 53's, and no served route may claim it.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=f"{lamina.url}/schedules")
    SigV4Auth(Credentials("test", "test"), "route53", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, headers=dict(request.headers), method="GET")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(prepared, timeout=10)
    assert caught.value.code == 501
    assert b"NotImplemented" in caught.value.read()


def test_a_request_for_no_service_is_still_a_404(lamina):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{lamina.url}/no/such/thing", timeout=10)
    assert caught.value.code == 404


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("route53", "list-hosted-zones"), "(NotImplemented) when calling the ListHostedZones operation: "
         "Lamina does not implement the Amazon Route 53 API (route53) yet"),
        (("dynamodb", "list-tables"), "(NotImplemented) when calling the ListTables operation: "
         "Lamina does not implement the Amazon DynamoDB API (dynamodb) yet"),
        (
            ("autoscaling", "describe-auto-scaling-groups"),
            "Lamina does not implement the Auto Scaling API (autoscaling) yet",
        ),
    ],
)  # fmt: skip
def test_aws_cli_prints_which_service_is_missing(lamina, aws_env, args, expected):
    result = subprocess.run(
        [AWS, "--endpoint-url", lamina.url, *args], capture_output=True, env=aws_env, timeout=120, text=True
    )
    assert result.returncode != 0
    assert expected in result.stderr
    assert "invalid XML" not in result.stderr and "Traceback" not in result.stderr
