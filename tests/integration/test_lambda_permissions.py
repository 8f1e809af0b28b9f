"""A function's resource-based policy: AddPermission, RemovePermission, GetPolicy as AWS
answers them, and what it grants: another account may invoke a function only where the
function's policy lets it."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

OWNER, OTHER = "000000000000", "111111111111"


def _as(server, key, secret, service="lambda"):
    """A client of `service` signing with the given keys (the owner's root, another account's)."""
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def _create(lambda_client, name):
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 'hi'\n"})},
        Publish=True,
    )


def test_add_get_and_remove_permissions(lambda_client, unique_name):
    _create(lambda_client, unique_name)
    arn = f"arn:aws:lambda:us-east-1:{OWNER}:function:{unique_name}"
    added = lambda_client.add_permission(
        FunctionName=unique_name,
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=f"arn:aws:sns:us-east-1:{OWNER}:topic",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "sns",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn,
        "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:sns:us-east-1:{OWNER}:topic"}},
    }
    lambda_client.add_permission(
        FunctionName=unique_name, StatementId="partner", Action="lambda:InvokeFunction", Principal=OTHER
    )
    policy = lambda_client.get_policy(FunctionName=unique_name)
    document = json.loads(policy["Policy"])
    assert document["Version"] == "2012-10-17" and document["Id"] == "default"
    assert [s["Sid"] for s in document["Statement"]] == ["sns", "partner"]
    assert document["Statement"][1]["Principal"] == {"AWS": f"arn:aws:iam::{OTHER}:root"}
    assert policy["RevisionId"]
    with pytest.raises(ClientError) as caught:
        lambda_client.add_permission(
            FunctionName=unique_name, StatementId="sns", Action="lambda:InvokeFunction", Principal="*"
        )
    assert caught.value.response["Error"]["Code"] == "ResourceConflictException"
    # A version's policy is its own.
    lambda_client.add_permission(
        FunctionName=unique_name, Qualifier="1", StatementId="v1", Action="lambda:InvokeFunction", Principal=OTHER
    )
    v1 = json.loads(lambda_client.get_policy(FunctionName=unique_name, Qualifier="1")["Policy"])
    assert [s["Resource"] for s in v1["Statement"]] == [f"{arn}:1"]
    lambda_client.remove_permission(FunctionName=unique_name, StatementId="sns")
    lambda_client.remove_permission(FunctionName=unique_name, StatementId="partner")
    with pytest.raises(ClientError) as caught:
        lambda_client.get_policy(FunctionName=unique_name)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )
    with pytest.raises(ClientError) as caught:
        lambda_client.remove_permission(FunctionName=unique_name, StatementId="gone")
    assert caught.value.response["Error"]["Message"] == "Statement gone is not found in resource policy."


def test_another_account_invokes_only_what_the_functions_policy_grants(lamina_factory):
    server = lamina_factory(LAMINA_CREDENTIALS=f"alice:alice-secret:{OTHER}")

    owner, alice = _as(server, "test", "test"), _as(server, "alice", "alice-secret")
    _create(owner, "shared")
    arn = f"arn:aws:lambda:us-east-1:{OWNER}:function:shared"
    with pytest.raises(ClientError) as caught:
        alice.invoke(FunctionName=arn)
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"].startswith(
        f"User: arn:aws:iam::{OTHER}:root is not authorized to perform: lambda:InvokeFunction"
    )
    owner.add_permission(FunctionName="shared", StatementId="alice", Action="lambda:InvokeFunction", Principal=OTHER)
    answer = alice.invoke(FunctionName=arn)
    assert answer["StatusCode"] == 200 and json.loads(answer["Payload"].read()) == "hi"
    # The grant is to invoke, nothing more.
    with pytest.raises(ClientError) as caught:
        alice.get_function(FunctionName=arn)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_layer_version_permissions_let_another_account_use_a_layer(lamina_factory):
    server = lamina_factory(LAMINA_CREDENTIALS=f"alice:alice-secret:{OTHER}")

    owner, alice = _as(server, "test", "test"), _as(server, "alice", "alice-secret")
    layer = owner.publish_layer_version(
        LayerName="shared-layer", Content={"ZipFile": make_zip({"python/shared.py": "WORD = 'shared'\n"})}
    )
    arn = layer["LayerVersionArn"]
    with pytest.raises(ClientError) as caught:
        owner.get_layer_version_policy(LayerName="shared-layer", VersionNumber=1)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"

    # Alice's account has an execution role of its own.
    iam = _as(server, "alice", "alice-secret", "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="alice-fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    code = "import shared\n\ndef handler(e, c):\n    return shared.WORD\n"

    def create():
        return alice.create_function(
            FunctionName="uses-layer",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": code})},
            Layers=[arn],
        )

    with pytest.raises(ClientError) as caught:
        create()
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert f"is not authorized to perform: lambda:GetLayerVersion on resource: {arn}" in error["Message"]
    with pytest.raises(ClientError) as caught:
        alice.get_layer_version_by_arn(Arn=arn)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"

    added = owner.add_layer_version_permission(
        LayerName="shared-layer", VersionNumber=1, StatementId="alice", Action="lambda:GetLayerVersion", Principal=OTHER
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "alice",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": "lambda:GetLayerVersion",
        "Resource": arn,
    }
    policy = owner.get_layer_version_policy(LayerName="shared-layer", VersionNumber=1)
    assert policy["RevisionId"] == added["RevisionId"]
    assert alice.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
    create()
    assert json.loads(alice.invoke(FunctionName="uses-layer")["Payload"].read()) == "shared"

    with pytest.raises(ClientError) as caught:
        owner.add_layer_version_permission(
            LayerName="shared-layer",
            VersionNumber=1,
            StatementId="alice",
            Action="lambda:GetLayerVersion",
            Principal="*",
        )
    assert caught.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(ClientError) as caught:
        owner.remove_layer_version_permission(
            LayerName="shared-layer", VersionNumber=1, StatementId="alice", RevisionId="not-the-revision"
        )
    assert caught.value.response["Error"]["Code"] == "PreconditionFailedException"
    owner.remove_layer_version_permission(LayerName="shared-layer", VersionNumber=1, StatementId="alice")
    with pytest.raises(ClientError) as caught:
        alice.get_layer_version_by_arn(Arn=arn)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
