"""Resource-based policies of Kinesis streams (Put/Get/DeleteResourcePolicy), CloudWatch Logs
(account-scoped and log-group-scoped Put/Describe/DeleteResourcePolicy) and EventBridge buses
(PutPermission, RemovePermission, DescribeEventBus's Policy), as AWS answers them, kept across
a restart; and each service's `resource_policy(arn)`, which authorization reads."""

from __future__ import annotations

import asyncio
import json
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lamina.observability.logsink import LogSink
from lamina.services.context import RequestContext
from lamina.services.events.permissions import PermissionsApi as EventsPermissions
from lamina.services.events.state import EventsState
from lamina.services.kinesis.policies import PoliciesApi as KinesisPolicies
from lamina.services.kinesis.state import KinesisState
from lamina.services.kinesis.streams import StreamsApi
from lamina.services.logs import LogsService
from lamina.store.sqlite import SQLiteStore

from .test_lambda_helpers import error_of

ACCOUNT, OTHER = "000000000000", "111111111111"
REGION = "us-east-1"


def client_in(server, service: str, region: str):
    """A client of `server` in another Region (an account's logs policies are per Region)."""
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def stream_policy(arn: str, principal: str = OTHER) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "write",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{principal}:root"},
                    "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"],
                    "Resource": arn,
                }
            ],
        }
    )


def logs_policy(resource: str = "*", sid: str = "Route53LogsToCloudWatchLogs") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"Service": ["route53.amazonaws.com"]},
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": resource,
                }
            ],
        }
    )


def group_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"


# --- Kinesis ------------------------------------------------------------------------------------------


@pytest.fixture
def stream(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    yield kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["StreamARN"]
    try:
        kinesis.delete_stream(StreamName=unique_name)
    except ClientError:
        pass


def test_kinesis_put_get_and_delete_a_stream_policy(kinesis, stream):
    assert kinesis.get_resource_policy(ResourceARN=stream)["Policy"] == "{}"
    policy = stream_policy(stream)
    kinesis.put_resource_policy(ResourceARN=stream, Policy=policy)
    assert kinesis.get_resource_policy(ResourceARN=stream)["Policy"] == policy
    replaced = stream_policy(stream, principal="222222222222")
    kinesis.put_resource_policy(ResourceARN=stream, Policy=replaced)
    assert kinesis.get_resource_policy(ResourceARN=stream)["Policy"] == replaced
    kinesis.delete_resource_policy(ResourceARN=stream)
    assert kinesis.get_resource_policy(ResourceARN=stream)["Policy"] == "{}"
    with pytest.raises(ClientError) as caught:
        kinesis.delete_resource_policy(ResourceARN=stream)
    assert error_of(caught) == (
        "ResourceNotFoundException",
        400,
        f"No resource policy found for resource ARN {stream}.",
    )


def test_kinesis_policy_errors(kinesis, stream):
    missing = stream.rsplit("/", 1)[0] + "/no-such-stream"
    for call in (
        lambda: kinesis.get_resource_policy(ResourceARN=missing),
        lambda: kinesis.put_resource_policy(ResourceARN=missing, Policy=stream_policy(missing)),
        lambda: kinesis.delete_resource_policy(ResourceARN=missing),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == (
            "ResourceNotFoundException",
            400,
            f"Stream {missing} under account {ACCOUNT} not found.",
        )
    # A consumer that is not registered.
    consumer = f"{stream}/consumer/reader:1700000000"
    with pytest.raises(ClientError) as caught:
        kinesis.get_resource_policy(ResourceARN=consumer)
    assert error_of(caught)[:2] == ("ResourceNotFoundException", 400)
    # A document the policy language refuses, with its reason.
    with pytest.raises(ClientError) as caught:
        kinesis.put_resource_policy(ResourceARN=stream, Policy="{not json")
    assert error_of(caught) == ("InvalidArgumentException", 400, "Syntax errors in policy.")
    no_principal = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": stream}]}
    )
    with pytest.raises(ClientError) as caught:
        kinesis.put_resource_policy(ResourceARN=stream, Policy=no_principal)
    assert error_of(caught) == ("InvalidArgumentException", 400, "Missing required field Principal")
    huge = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": f"s{i}",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "kinesis:GetRecords",
                    "Resource": stream,
                }
                for i in range(300)
            ],
        }
    )
    with pytest.raises(ClientError) as caught:
        kinesis.put_resource_policy(ResourceARN=stream, Policy=huge)
    assert error_of(caught)[:2] == ("InvalidArgumentException", 400)
    assert kinesis.get_resource_policy(ResourceARN=stream)["Policy"] == "{}"


def test_kinesis_policy_goes_with_the_stream(kinesis, unique_name):
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.put_resource_policy(ResourceARN=arn, Policy=stream_policy(arn))
    kinesis.delete_stream(StreamName=unique_name)
    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    try:
        assert kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    finally:
        kinesis.delete_stream(StreamName=unique_name)


# --- CloudWatch Logs ----------------------------------------------------------------------------------


@pytest.fixture
def logs_region(lamina):
    """A logs client in a Region of its own: the 10 account-scoped policies are per Region."""
    return client_in(lamina, "logs", f"eu-{uuid.uuid4().hex[:6]}-1")


def test_logs_account_policies_put_describe_and_delete(logs_region):
    logs = logs_region
    created = logs.put_resource_policy(policyName="route53", policyDocument=logs_policy())["resourcePolicy"]
    assert created["policyName"] == "route53"
    assert created["policyDocument"] == logs_policy()
    assert created["policyScope"] == "ACCOUNT"
    assert isinstance(created["lastUpdatedTime"], int) and "resourceArn" not in created
    updated = logs.put_resource_policy(policyName="route53", policyDocument=logs_policy(sid="Other"))
    assert updated["resourcePolicy"]["policyDocument"] == logs_policy(sid="Other")
    logs.put_resource_policy(policyName="apigw", policyDocument=logs_policy())
    listed = logs.describe_resource_policies()["resourcePolicies"]
    assert [p["policyName"] for p in listed] == ["apigw", "route53"]
    assert listed[1]["policyDocument"] == logs_policy(sid="Other")
    first = logs.describe_resource_policies(limit=1)
    assert [p["policyName"] for p in first["resourcePolicies"]] == ["apigw"]
    rest = logs.describe_resource_policies(limit=1, nextToken=first["nextToken"])
    assert [p["policyName"] for p in rest["resourcePolicies"]] == ["route53"] and "nextToken" not in rest
    logs.delete_resource_policy(policyName="apigw")
    assert [p["policyName"] for p in logs.describe_resource_policies()["resourcePolicies"]] == ["route53"]
    with pytest.raises(ClientError) as caught:
        logs.delete_resource_policy(policyName="apigw")
    assert error_of(caught) == ("ResourceNotFoundException", 400, "Policy with name [apigw] does not exist")


def test_logs_account_policy_limits(logs_region):
    logs = logs_region
    for index in range(10):
        logs.put_resource_policy(policyName=f"p{index}", policyDocument=logs_policy())
    with pytest.raises(ClientError) as caught:
        logs.put_resource_policy(policyName="p10", policyDocument=logs_policy())
    assert error_of(caught) == ("LimitExceededException", 400, "Resource limit exceeded.")
    # Changing one of the ten is not a new one.
    logs.put_resource_policy(policyName="p3", policyDocument=logs_policy(sid="Again"))
    too_long = json.dumps({"Version": "2012-10-17", "Statement": [], "Id": "x" * 5200})
    with pytest.raises(ClientError) as caught:
        logs.put_resource_policy(policyName="p3", policyDocument=too_long)
    code, status, message = error_of(caught)
    assert (code, status) == ("InvalidParameterException", 400)
    assert message.endswith("Member must have length less than or equal to 5120")
    with pytest.raises(ClientError) as caught:
        logs.put_resource_policy(policyName="p3", policyDocument="{not json")
    assert error_of(caught)[:2] == ("InvalidParameterException", 400)


def test_logs_log_group_policy_with_revisions(logs_region, unique_name):
    logs = logs_region
    region = logs.meta.region_name
    logs.create_log_group(logGroupName=unique_name)
    arn = group_arn(unique_name, region)
    put = logs.put_resource_policy(policyName="own", policyDocument=logs_policy(arn), resourceArn=arn)
    revision = put["revisionId"]
    assert put["resourcePolicy"] == {
        "policyName": "own",
        "policyDocument": logs_policy(arn),
        "lastUpdatedTime": put["resourcePolicy"]["lastUpdatedTime"],
        "policyScope": "RESOURCE",
        "resourceArn": arn,
        "revisionId": revision,
    }
    # A change must name the revision it changes.
    for expected in ({}, {"expectedRevisionId": "stale"}):
        with pytest.raises(ClientError) as caught:
            logs.put_resource_policy(policyDocument=logs_policy(arn), resourceArn=arn, **expected)
        assert error_of(caught)[:2] == ("OperationAbortedException", 400)
    again = logs.put_resource_policy(
        policyDocument=logs_policy(arn, sid="B"), resourceArn=arn, expectedRevisionId=revision
    )
    assert again["revisionId"] != revision
    # Not among the account's policies; found by its ARN or by scope.
    assert logs.describe_resource_policies()["resourcePolicies"] == []
    by_arn = logs.describe_resource_policies(resourceArn=arn)["resourcePolicies"]
    assert [(p["resourceArn"], p["revisionId"], p["policyName"]) for p in by_arn] == [(arn, again["revisionId"], "own")]
    assert len(logs.describe_resource_policies(policyScope="RESOURCE")["resourcePolicies"]) == 1
    # Only for a log group that exists.
    with pytest.raises(ClientError) as caught:
        logs.put_resource_policy(policyDocument=logs_policy(), resourceArn=group_arn("nope", region))
    assert error_of(caught) == ("ResourceNotFoundException", 400, "The specified log group does not exist.")
    # Deleting it, then deleting the log group that had one, which takes its policy along.
    with pytest.raises(ClientError) as caught:
        logs.delete_resource_policy(resourceArn=arn, expectedRevisionId="stale")
    assert error_of(caught)[:2] == ("OperationAbortedException", 400)
    logs.delete_resource_policy(resourceArn=arn, expectedRevisionId=again["revisionId"])
    assert logs.describe_resource_policies(resourceArn=arn)["resourcePolicies"] == []
    with pytest.raises(ClientError) as caught:
        logs.delete_resource_policy(resourceArn=arn)
    assert error_of(caught)[:2] == ("ResourceNotFoundException", 400)
    logs.put_resource_policy(policyDocument=logs_policy(arn), resourceArn=arn)
    logs.delete_log_group(logGroupName=unique_name)
    assert logs.describe_resource_policies(policyScope="RESOURCE")["resourcePolicies"] == []
    logs.create_log_group(logGroupName=unique_name)
    logs.put_resource_policy(policyDocument=logs_policy(arn), resourceArn=arn)  # a first one again: no revision
    logs.delete_log_group(logGroupName=unique_name)


# --- EventBridge --------------------------------------------------------------------------------------


@pytest.fixture
def events(lamina):
    return lamina.client("events")


@pytest.fixture
def bus(events, unique_name):
    events.create_event_bus(Name=unique_name)
    yield unique_name
    events.delete_event_bus(Name=unique_name)


def test_events_put_permission_and_describe_event_bus(events, bus):
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
    assert "Policy" not in events.describe_event_bus(Name=bus)
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal=OTHER, StatementId="partner")
    events.put_permission(
        EventBusName=bus,
        Action="events:PutEvents",
        Principal="*",
        StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1234567890"},
    )
    policy = json.loads(events.describe_event_bus(Name=bus)["Policy"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "partner",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                "Action": "events:PutEvents",
                "Resource": arn,
            },
            {
                "Sid": "org",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1234567890"}},
            },
        ],
    }
    listed = {b["Name"]: b for b in events.list_event_buses(NamePrefix=bus)["EventBuses"]}
    assert json.loads(listed[bus]["Policy"]) == policy
    # The same StatementId again replaces that statement.
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="222222222222", StatementId="partner")
    statements = json.loads(events.describe_event_bus(Name=bus)["Policy"])["Statement"]
    assert [(s["Sid"], s["Principal"]) for s in statements] == [
        ("org", "*"),
        ("partner", {"AWS": "arn:aws:iam::222222222222:root"}),
    ]
    events.remove_permission(EventBusName=bus, StatementId="org")
    assert [s["Sid"] for s in json.loads(events.describe_event_bus(Name=bus)["Policy"])["Statement"]] == ["partner"]
    with pytest.raises(ClientError) as caught:
        events.remove_permission(EventBusName=bus, StatementId="org")
    assert error_of(caught) == ("ResourceNotFoundException", 400, "Statement with the provided id does not exist.")
    events.remove_permission(EventBusName=bus, StatementId="partner")
    assert "Policy" not in events.describe_event_bus(Name=bus)
    with pytest.raises(ClientError) as caught:
        events.remove_permission(EventBusName=bus, StatementId="partner")
    assert error_of(caught) == ("ResourceNotFoundException", 400, "EventBus does not have a policy.")


def test_events_whole_policy_and_remove_all_permissions(events, bus):
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "a",
                    "Effect": "Allow",
                    "Principal": {"AWS": OTHER},
                    "Action": "events:PutEvents",
                    "Resource": arn,
                },
                {"Sid": "b", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": arn},
            ],
        }
    )
    events.put_permission(EventBusName=bus, Policy=document)
    assert json.loads(events.describe_event_bus(Name=bus)["Policy"]) == json.loads(document)
    events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus(Name=bus)
    events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)  # nothing left: still fine
    with pytest.raises(ClientError) as caught:
        events.put_permission(EventBusName=bus, Policy="{not json")
    assert error_of(caught) == ("ValidationException", 400, "This policy contains invalid Json")
    no_principal = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:*", "Resource": arn}]}
    )
    with pytest.raises(ClientError) as caught:
        events.put_permission(EventBusName=bus, Policy=no_principal)
    assert error_of(caught) == ("ValidationException", 400, "Missing required field Principal")
    too_long = json.dumps({"Version": "2012-10-17", "Id": "x" * 11000, "Statement": []})
    with pytest.raises(ClientError) as caught:
        events.put_permission(EventBusName=bus, Policy=too_long)
    assert error_of(caught)[:2] == ("PolicyLengthExceededException", 400)


def test_events_permission_errors(events, bus):
    with pytest.raises(ClientError) as caught:
        events.put_permission(EventBusName="no-such-bus", Action="events:PutEvents", Principal=OTHER, StatementId="s")
    assert error_of(caught) == ("ResourceNotFoundException", 400, "Event bus no-such-bus does not exist.")
    with pytest.raises(ClientError) as caught:
        events.remove_permission(EventBusName="no-such-bus", StatementId="s")
    assert error_of(caught) == ("ResourceNotFoundException", 400, "Event bus no-such-bus does not exist.")
    with pytest.raises(ClientError) as caught:
        events.put_permission(
            EventBusName=bus,
            Action="events:PutEvents",
            Principal=OTHER,
            StatementId="s",
            Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"},
        )
    assert error_of(caught) == (
        "ValidationException",
        400,
        "Value of the parameter 'principal' must be '*' when the parameter 'condition' is set.",
    )
    with pytest.raises(ClientError) as caught:
        events.put_permission(EventBusName=bus, Action="events:DescribeRule", Principal=OTHER, StatementId="s")
    assert error_of(caught) == ("ValidationException", 400, "Provided value in parameter 'action' is not supported.")
    # The default bus takes a policy too (it exists without being created).
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="default-partner")
    try:
        assert "default-partner" in events.describe_event_bus()["Policy"]
    finally:
        events.remove_permission(StatementId="default-partner")


# --- across a restart ---------------------------------------------------------------------------------


def test_policies_survive_a_restart(lamina_factory):
    server = lamina_factory()
    kinesis, logs, events = server.client("kinesis"), server.client("logs"), server.client("events")
    kinesis.create_stream(StreamName="kept", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="kept")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.put_resource_policy(ResourceARN=stream, Policy=stream_policy(stream))
    logs.put_resource_policy(policyName="account-wide", policyDocument=logs_policy())
    logs.create_log_group(logGroupName="kept")
    revision = logs.put_resource_policy(policyDocument=logs_policy(group_arn("kept")), resourceArn=group_arn("kept"))[
        "revisionId"
    ]
    events.create_event_bus(Name="kept")
    events.put_permission(EventBusName="kept", Action="events:PutEvents", Principal=OTHER, StatementId="partner")
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="on-default")

    server.restart()
    kinesis, logs, events = server.client("kinesis"), server.client("logs"), server.client("events")
    assert kinesis.get_resource_policy(ResourceARN=stream)["Policy"] == stream_policy(stream)
    assert [p["policyName"] for p in logs.describe_resource_policies()["resourcePolicies"]] == ["account-wide"]
    own = logs.describe_resource_policies(resourceArn=group_arn("kept"))["resourcePolicies"]
    assert [(p["revisionId"], p["policyDocument"]) for p in own] == [(revision, logs_policy(group_arn("kept")))]
    assert [s["Sid"] for s in json.loads(events.describe_event_bus(Name="kept")["Policy"])["Statement"]] == ["partner"]
    assert [s["Sid"] for s in json.loads(events.describe_event_bus()["Policy"])["Statement"]] == ["on-default"]
    # And they go with their resources after a restart as before it.
    events.remove_permission(EventBusName="kept", RemoveAllPermissions=True)
    events.delete_event_bus(Name="kept")
    logs.delete_log_group(logGroupName="kept")
    assert logs.describe_resource_policies(policyScope="RESOURCE")["resourcePolicies"] == []
    kinesis.delete_stream(StreamName="kept")
    with pytest.raises(ClientError) as caught:
        kinesis.get_resource_policy(ResourceARN=stream)
    assert error_of(caught)[0] == "ResourceNotFoundException"


# --- resource_policy(arn): what authorization reads ---------------------------------------------------

CTX = RequestContext(account_id=ACCOUNT, region=REGION, request_id="r", endpoint_url="http://x")


class _Kinesis(StreamsApi, KinesisPolicies):
    def __init__(self, store):
        self.state = KinesisState(store)


class _Events(EventsPermissions):
    def __init__(self, store):
        self.state = EventsState(store)


@pytest.fixture
def run(tmp_path):
    def runner(scenario):
        async def main():
            store = SQLiteStore(str(tmp_path / "lamina.db"))
            sink = LogSink(store)
            try:
                return await scenario(store, sink)
            finally:
                await sink.close()
                await store.close()

        return asyncio.run(main())

    return runner


def test_kinesis_resource_policy_contract(run):
    async def scenario(store, sink):
        kinesis = _Kinesis(store)
        arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s"
        assert await kinesis.resource_policy(arn) is None
        await kinesis.create_stream({"StreamName": "s", "ShardCount": 1}, CTX)
        assert await kinesis.resource_policy(arn) == ""
        await kinesis.put_resource_policy({"ResourceARN": arn, "Policy": stream_policy(arn)}, CTX)
        assert await kinesis.resource_policy(arn) == stream_policy(arn)
        assert await kinesis.resource_policy(f"{arn}/consumer/c:1700000000") is None
        assert await kinesis.resource_policy(f"arn:aws:kinesis:{REGION}:{OTHER}:stream/s") is None

    run(scenario)


def test_events_resource_policy_contract(run):
    async def scenario(store, sink):
        events = _Events(store)
        default = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
        custom = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/custom"
        assert await events.resource_policy(default) == ""
        assert await events.resource_policy(custom) is None
        await events.put_permission({"Action": "events:PutEvents", "Principal": OTHER, "StatementId": "p"}, CTX)
        policy = json.loads(await events.resource_policy(default))
        assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{OTHER}:root"}
        assert await events.resource_policy("arn:aws:sqs:us-east-1:000000000000:q") is None

    run(scenario)


def test_logs_resource_policy_contract(run):
    async def scenario(store, sink):
        logs = LogsService(store, sink)
        await logs.start()
        app, other = group_arn("/aws/route53/app"), group_arn("/other")
        assert await logs.resource_policy(app) is None
        await logs.create_log_group({"logGroupName": "/aws/route53/app"}, CTX)
        await logs.create_log_group({"logGroupName": "/other"}, CTX)
        assert await logs.resource_policy(app) == ""
        # Account-scoped: only the statements whose Resource could name the group come along.
        await logs.put_resource_policy(
            {"policyName": "r53", "policyDocument": logs_policy(group_arn("/aws/route53/*"), sid="R53")}, CTX
        )
        await logs.put_resource_policy(
            {"policyName": "streams", "policyDocument": logs_policy(app + ":log-stream:x*", sid="R53")}, CTX
        )
        await logs.put_resource_policy(
            {"policyName": "bogus", "policyDocument": logs_policy("log_arn", sid="Bogus")}, CTX
        )
        combined = json.loads(await logs.resource_policy(app + ":*"))
        assert combined["Version"] == "2012-10-17"
        assert [s["Resource"] for s in combined["Statement"]] == [group_arn("/aws/route53/*"), app + ":log-stream:x*"]
        assert [s.get("Sid") for s in combined["Statement"]] == ["R53", None]  # a Sid is not repeated
        assert await logs.resource_policy(other) == ""
        # The group's own policy joins them; a stream's ARN finds its group's.
        await logs.put_resource_policy({"resourceArn": other, "policyDocument": logs_policy(other, sid="Own")}, CTX)
        own = json.loads(await logs.resource_policy(other + ":log-stream:s1"))
        assert [s["Sid"] for s in own["Statement"]] == ["Own"]
        everything = await logs.put_resource_policy(
            {"policyName": "all", "policyDocument": logs_policy("*", sid="All")}, CTX
        )
        assert everything["resourcePolicy"]["policyScope"] == "ACCOUNT"
        assert [s["Sid"] for s in json.loads(await logs.resource_policy(other))["Statement"]] == ["All", "Own"]
        await logs.delete_log_group({"logGroupName": "/other"}, CTX)
        assert await logs.resource_policy(other) is None
        assert await logs.resource_policy("arn:aws:logs:us-east-1:000000000000:destination:d") is None

    run(scenario)
