"""IAM enforced as AWS does: an IAM user's keys and a role session's credentials can do what
their policies allow and nothing else (AWS's denial codes and messages), a role is assumed
only where its trust policy and the caller's policies allow it, permissions boundaries and
session policies cap what identity policies grant; the account's root keys stay all-powerful;
LAMINA_IAM=audit logs instead of refusing."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

ACCOUNT = "000000000000"


def _client(server, service, key="test", secret="test", token=None):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action, resource="*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _user(server, name, *statements, boundary=None) -> dict:
    iam = _client(server, "iam")
    iam.create_user(UserName=name, **({"PermissionsBoundary": boundary} if boundary else {}))
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def _denied(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:8]
    return lambda stem: f"{stem}-{suffix}"


@pytest.fixture
def function(lamina, names):
    name = names("fn")
    _client(lamina, "lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 'ok'\n"})},
    )
    return name


def test_an_iam_user_does_what_its_policy_allows_and_nothing_else(lamina, names, function):
    queue = _client(lamina, "sqs").create_queue(QueueName=names("q"))["QueueUrl"]
    other_queue = _client(lamina, "sqs").create_queue(QueueName=names("other"))["QueueUrl"]
    fn_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue.rsplit('/', 1)[1]}"
    alice = _user(lamina, names("alice"), _allow("lambda:InvokeFunction", fn_arn), _allow("sqs:SendMessage", queue_arn))
    lam, sqs = _client(lamina, "lambda", **alice), _client(lamina, "sqs", **alice)
    assert lam.invoke(FunctionName=function)["StatusCode"] == 200
    sqs.send_message(QueueUrl=queue, MessageBody="allowed")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{names('alice')}"
    error = _denied(lambda: lam.list_functions())
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        # AWS's documented form for an action on no particular resource: no "on resource".
        f"User: {user_arn} is not authorized to perform: lambda:ListFunctions "
        "because no identity-based policy allows the lambda:ListFunctions action"
    )
    error = _denied(lambda: sqs.send_message(QueueUrl=other_queue, MessageBody="no"))
    assert error["Code"] in ("AccessDenied", "AccessDeniedException")
    assert (
        f"is not authorized to perform: sqs:SendMessage on resource: {queue_arn[: -len(queue.rsplit('/', 1)[1])]}"
        in (error["Message"])
    )
    # Who am I needs no permission; the root keys can still do everything.
    assert _client(lamina, "sts", **alice).get_caller_identity()["Arn"] == user_arn
    assert _client(lamina, "lambda").list_functions()["Functions"] is not None


def test_an_explicit_deny_and_a_permissions_boundary_win(lamina, names):
    iam = _client(lamina, "iam")
    boundary = iam.create_policy(PolicyName=names("only-sqs"), PolicyDocument=_policy(_allow("sqs:*")))["Policy"]["Arn"]
    bob = _user(lamina, names("bob"), _allow("*"), boundary=boundary)
    _client(lamina, "sqs", **bob).list_queues()  # allowed: inside the boundary and the policy
    assert _denied(lambda: _client(lamina, "lambda", **bob).list_functions())["Code"] == "AccessDeniedException"
    carol = _user(lamina, names("carol"), _allow("*"), {"Effect": "Deny", "Action": "sqs:ListQueues", "Resource": "*"})
    error = _denied(lambda: _client(lamina, "sqs", **carol).list_queues())
    assert "with an explicit deny in an identity-based policy" in error["Message"]
    assert _client(lamina, "lambda", **carol).list_functions()["Functions"] is not None


def test_roles_are_assumed_where_trust_and_policy_allow_and_sessions_act_as_the_role(lamina, names):
    iam = _client(lamina, "iam")
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "secret-handshake"}},
        }
    )
    role = iam.create_role(RoleName=names("reader"), AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="sqs", PolicyDocument=_policy(_allow("sqs:ListQueues")))
    dave = _user(lamina, names("dave"), _allow("sts:AssumeRole", role["Arn"]))
    sts = _client(lamina, "sts", **dave)
    error = _denied(lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1"))  # no ExternalId
    assert error["Code"] == "AccessDenied" and "sts:AssumeRole" in error["Message"]
    assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", ExternalId="secret-handshake")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/s1"
    assert assumed["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:s1"
    creds = assumed["Credentials"]
    session = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    identity = _client(lamina, "sts", **session).get_caller_identity()
    assert identity["Arn"] == assumed["AssumedRoleUser"]["Arn"] and identity["UserId"] == f"{role['RoleId']}:s1"
    _client(lamina, "sqs", **session).list_queues()
    error = _denied(lambda: _client(lamina, "lambda", **session).list_functions())
    assert error["Message"].startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/s1 is not")
    # A session policy narrows the session to less than the role grants.
    narrowed = sts.assume_role(
        RoleArn=role["Arn"],
        RoleSessionName="s2",
        ExternalId="secret-handshake",
        Policy=_policy(_allow("sqs:GetQueueUrl")),
    )["Credentials"]
    narrow = dict(key=narrowed["AccessKeyId"], secret=narrowed["SecretAccessKey"], token=narrowed["SessionToken"])
    assert _denied(lambda: _client(lamina, "sqs", **narrow).list_queues())["Code"] in (
        "AccessDenied",
        "AccessDeniedException",
    )
    # Without sts:AssumeRole in its own policies, a user in the trusted account is refused.
    eve = _user(lamina, names("eve"), _allow("sqs:*"))
    error = _denied(
        lambda: _client(lamina, "sts", **eve).assume_role(
            RoleArn=role["Arn"], RoleSessionName="xx", ExternalId="secret-handshake"
        )
    )
    assert error["Code"] == "AccessDenied"


def test_a_role_that_trusts_someone_else_cannot_be_assumed_even_by_root(lamina, names):
    iam = _client(lamina, "iam")
    trust = _policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName=names("for-lambda"), AssumeRolePolicyDocument=trust)["Role"]
    error = _denied(lambda: _client(lamina, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="root"))
    assert error["Code"] == "AccessDenied"
    assert (
        _denied(
            lambda: _client(lamina, "sts").assume_role(
                RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{names('missing')}", RoleSessionName="xx"
            )
        )["Code"]
        == "AccessDenied"
    )


def test_audit_mode_logs_and_allows(lamina_factory, names):
    server = lamina_factory(LAMINA_IAM="audit")
    frank = _user(server, names("frank"))
    assert _client(server, "lambda", **frank).list_functions()["Functions"] == []
    assert "IAM audit: would deny" in server.log() and "lambda:ListFunctions" in server.log()


def test_conditions_on_the_callers_address_the_resources_tags_and_the_requests_tags(lamina, names):
    sqs = _client(lamina, "sqs")
    blue = sqs.create_queue(QueueName=names("blue"), tags={"team": "blue"})["QueueUrl"]
    red = sqs.create_queue(QueueName=names("red"), tags={"team": "red"})["QueueUrl"]

    def condition(operator: str, key: str, value) -> dict:
        return {operator: {key: value}}

    # aws:SourceIp: the tests call from the loopback address.
    local = _user(
        lamina,
        names("local"),
        {**_allow("sqs:SendMessage"), "Condition": condition("IpAddress", "aws:SourceIp", "127.0.0.0/8")},
    )
    remote = _user(
        lamina,
        names("remote"),
        {**_allow("sqs:SendMessage"), "Condition": condition("IpAddress", "aws:SourceIp", "10.0.0.0/8")},
    )
    _client(lamina, "sqs", **local).send_message(QueueUrl=blue, MessageBody="from here")
    assert (
        _denied(lambda: _client(lamina, "sqs", **remote).send_message(QueueUrl=blue, MessageBody="x"))["Code"]
        == "AccessDenied"
    )

    # aws:ResourceTag: the queue's own tags.
    blue_team = _user(
        lamina,
        names("blue-team"),
        {**_allow("sqs:SendMessage"), "Condition": condition("StringEquals", "aws:ResourceTag/team", "blue")},
    )
    _client(lamina, "sqs", **blue_team).send_message(QueueUrl=blue, MessageBody="ours")
    assert (
        _denied(lambda: _client(lamina, "sqs", **blue_team).send_message(QueueUrl=red, MessageBody="x"))["Code"]
        == "AccessDenied"
    )
    sqs.tag_queue(QueueUrl=red, Tags={"team": "blue"})  # retagged: now it is theirs
    _client(lamina, "sqs", **blue_team).send_message(QueueUrl=red, MessageBody="ours now")

    # aws:RequestTag: what the request itself tags.
    tagger = _user(
        lamina,
        names("tagger"),
        {**_allow("sqs:CreateQueue"), "Condition": condition("StringEquals", "aws:RequestTag/team", "blue")},
    )
    tagged = _client(lamina, "sqs", **tagger)
    tagged.create_queue(QueueName=names("tagged"), tags={"team": "blue"})
    assert _denied(lambda: tagged.create_queue(QueueName=names("untagged")))["Code"] == "AccessDenied"
    assert (
        _denied(lambda: tagged.create_queue(QueueName=names("wrong"), tags={"team": "red"}))["Code"] == "AccessDenied"
    )


def test_managed_policies_passed_as_policy_arns_cap_the_session(lamina, names):
    iam = _client(lamina, "iam")
    trust = _policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    )
    role = iam.create_role(RoleName=names("wide"), AssumeRolePolicyDocument=trust)["Role"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    only_list = iam.create_policy(PolicyName=names("list-queues"), PolicyDocument=_policy(_allow("sqs:ListQueues")))
    arn = only_list["Policy"]["Arn"]
    assumed = _client(lamina, "sts").assume_role(
        RoleArn=role["Arn"],
        RoleSessionName="capped",
        PolicyArns=[{"arn": arn}, {"arn": "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess"}],
    )
    assert assumed["PackedPolicySize"] >= 1
    creds = assumed["Credentials"]
    session = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    _client(lamina, "sqs", **session).list_queues()  # the role allows it, and so does a session policy
    # The role allows everything; no session policy allows this.
    assert _denied(lambda: _client(lamina, "sqs", **session).create_queue(QueueName=names("no")))["Code"] in (
        "AccessDenied",
        "AccessDeniedException",
    )
    # A session policy that no longer exists caps the session at nothing more.
    iam.delete_policy(PolicyArn=arn)
    assert _denied(lambda: _client(lamina, "sqs", **session).list_queues())["Code"] in (
        "AccessDenied",
        "AccessDeniedException",
    )


def test_iam_resources_named_by_name_are_matched_with_their_path(lamina, names):
    iam = _client(lamina, "iam")
    trust = _policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    pathed = iam.create_role(RoleName=names("pathed"), Path="/app/", AssumeRolePolicyDocument=trust)["Role"]
    plain = iam.create_role(RoleName=names("plain"), AssumeRolePolicyDocument=trust)["Role"]
    assert pathed["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/app/{names('pathed')}"
    reader = _user(lamina, names("app-reader"), _allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/app/*"))
    as_reader = _client(lamina, "iam", **reader)
    assert as_reader.get_role(RoleName=pathed["RoleName"])["Role"]["Arn"] == pathed["Arn"]
    error = _denied(lambda: as_reader.get_role(RoleName=plain["RoleName"]))
    assert error["Code"] == "AccessDenied"
    assert f"on resource: {plain['Arn']}" in error["Message"]


def test_enforcement_off_lets_every_valid_signature_act_as_its_accounts_root(lamina_factory, names):
    server = lamina_factory(LAMINA_IAM="off")
    nobody = _user(server, names("nobody"))  # no policy at all
    assert _client(server, "lambda", **nobody).list_functions()["Functions"] == []
    queue = _client(server, "sqs", **nobody).create_queue(QueueName=names("q"))["QueueUrl"]
    _client(server, "sqs", **nobody).send_message(QueueUrl=queue, MessageBody="allowed")
    # Signatures are still checked.
    error = _denied(lambda: _client(server, "sqs", key=nobody["key"], secret="wrong").list_queues())
    assert error["Code"] in ("SignatureDoesNotMatch", "InvalidSignatureException")
