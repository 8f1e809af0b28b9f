"""Amazon EventBridge Scheduler's control plane against a live server, through boto3
(rest-json): schedule groups, schedules, tags, paging, ClientToken idempotency, and the
errors AWS answers. Firing is in test_scheduler.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of, unvalidated_client

ROLE = "arn:aws:iam::000000000000:role/scheduler"
QUEUE = "arn:aws:sqs:us-east-1:000000000000:some-queue"
OFF = {"Mode": "OFF"}


@pytest.fixture
def scheduler(lamina):
    return lamina.client("scheduler")


def target(arn: str = QUEUE, **more) -> dict:
    return {"Arn": arn, "RoleArn": ROLE, **more}


def create(scheduler, name: str, expression: str = "rate(1 day)", **more) -> str:
    params = {"Name": name, "ScheduleExpression": expression, "Target": target(), "FlexibleTimeWindow": OFF}
    params.update(more)
    return scheduler.create_schedule(**params)["ScheduleArn"]


def refused(call, **params) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return error_of(caught)


# --- groups ----------------------------------------------------------------------------------------


def test_schedule_groups_lifecycle(scheduler, unique_name):
    arn = scheduler.create_schedule_group(Name=unique_name, Tags=[{"Key": "team", "Value": "core"}])["ScheduleGroupArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/{unique_name}"
    group = scheduler.get_schedule_group(Name=unique_name)
    assert (group["Arn"], group["Name"], group["State"]) == (arn, unique_name, "ACTIVE")
    assert isinstance(group["CreationDate"], datetime)
    assert refused(scheduler.create_schedule_group, Name=unique_name)[:2] == ("ConflictException", 409)

    names = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in names and unique_name in names
    assert [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix=unique_name)["ScheduleGroups"]] == [
        unique_name
    ]

    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "core"}]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "test"}]

    create(scheduler, "in-group", GroupName=unique_name)
    scheduler.delete_schedule_group(Name=unique_name)
    code, status, message = refused(scheduler.get_schedule_group, Name=unique_name)
    assert (code, status, message) == (
        "ResourceNotFoundException",
        404,
        f"Schedule group {unique_name} does not exist.",
    )
    # Its schedules went with it.
    assert refused(scheduler.get_schedule, Name="in-group", GroupName=unique_name)[0] == "ResourceNotFoundException"
    assert refused(scheduler.delete_schedule_group, Name=unique_name)[0] == "ResourceNotFoundException"


def test_default_group_exists_and_cannot_be_deleted(scheduler):
    assert scheduler.get_schedule_group(Name="default")["Arn"].endswith(":schedule-group/default")
    assert refused(scheduler.delete_schedule_group, Name="default")[:2] == ("ValidationException", 400)
    assert refused(scheduler.create_schedule_group, Name="default")[0] == "ConflictException"


def test_group_errors(scheduler, unique_name):
    missing = f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/{unique_name}"
    assert refused(scheduler.list_tags_for_resource, ResourceArn=missing)[:2] == ("ResourceNotFoundException", 404)
    assert refused(scheduler.create_schedule_group, Name="bad name!")[:2] == ("ValidationException", 400)
    assert (
        refused(scheduler.create_schedule_group, Name=unique_name, Tags=[{"Key": "aws:reserved", "Value": "x"}])[0]
        == "ValidationException"
    )


# --- schedules -------------------------------------------------------------------------------------


def test_create_and_get_fill_in_aws_defaults(scheduler, unique_name):
    arn = create(scheduler, unique_name, "rate(5 minutes)", Target=target(Input='{"a": 1}'))
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{unique_name}"
    got = scheduler.get_schedule(Name=unique_name)
    assert got["Arn"] == arn and got["Name"] == unique_name and got["GroupName"] == "default"
    assert got["ScheduleExpression"] == "rate(5 minutes)"
    assert got["ScheduleExpressionTimezone"] == "UTC"
    assert got["State"] == "ENABLED" and got["ActionAfterCompletion"] == "NONE"
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["Target"] == {
        "Arn": QUEUE,
        "RoleArn": ROLE,
        "Input": '{"a": 1}',
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    assert isinstance(got["CreationDate"], datetime) and isinstance(got["LastModificationDate"], datetime)
    assert "StartDate" not in got and "Description" not in got
    assert refused(
        scheduler.create_schedule,
        Name=unique_name,
        ScheduleExpression="rate(1 day)",
        Target=target(),
        FlexibleTimeWindow=OFF,
    )[:3] == ("ConflictException", 409, f"Schedule {unique_name} already exists.")


def test_update_replaces_the_whole_schedule(scheduler, unique_name):
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    create(
        scheduler,
        unique_name,
        "cron(0 12 * * ? *)",
        Description="first",
        ScheduleExpressionTimezone="Europe/Paris",
        StartDate=start,
        Target=target(Input="x", RetryPolicy={"MaximumRetryAttempts": 3}),
    )
    before = scheduler.get_schedule(Name=unique_name)
    assert before["Description"] == "first" and before["StartDate"].timestamp() == pytest.approx(
        start.timestamp(), abs=1
    )
    scheduler.update_schedule(
        Name=unique_name,
        ScheduleExpression="rate(2 hours)",
        Target=target(),
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        State="DISABLED",
    )
    after = scheduler.get_schedule(Name=unique_name)
    assert after["ScheduleExpression"] == "rate(2 hours)" and after["State"] == "DISABLED"
    assert after["ScheduleExpressionTimezone"] == "UTC"  # back to the default
    assert "Description" not in after and "StartDate" not in after and "Input" not in after["Target"]
    assert after["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 185
    assert after["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert after["CreationDate"] == before["CreationDate"]
    assert after["LastModificationDate"] >= before["LastModificationDate"]
    code, status, message = refused(
        scheduler.update_schedule,
        Name=f"{unique_name}-nope",
        ScheduleExpression="rate(1 day)",
        Target=target(),
        FlexibleTimeWindow=OFF,
    )
    assert (code, status, message) == ("ResourceNotFoundException", 404, f"Schedule {unique_name}-nope does not exist.")


def test_delete_and_not_found(scheduler, unique_name):
    create(scheduler, unique_name)
    scheduler.delete_schedule(Name=unique_name)
    for call in (scheduler.get_schedule, scheduler.delete_schedule):
        assert refused(call, Name=unique_name) == (
            "ResourceNotFoundException",
            404,
            f"Schedule {unique_name} does not exist.",
        )
    assert refused(
        scheduler.create_schedule,
        Name=unique_name,
        GroupName="no-such-group",
        ScheduleExpression="rate(1 day)",
        Target=target(),
        FlexibleTimeWindow=OFF,
    )[:3] == ("ResourceNotFoundException", 404, "Schedule group no-such-group does not exist.")


def test_list_schedules_filters_and_pages(scheduler, unique_name):
    scheduler.create_schedule_group(Name=unique_name)
    for i in range(5):
        create(scheduler, f"s{i}", GroupName=unique_name, State="DISABLED" if i % 2 else "ENABLED")
    create(scheduler, "other", GroupName=unique_name)
    listed = scheduler.list_schedules(GroupName=unique_name)["Schedules"]
    assert [s["Name"] for s in listed] == ["other", "s0", "s1", "s2", "s3", "s4"]
    assert listed[0]["Target"] == {"Arn": QUEUE} and listed[0]["GroupName"] == unique_name
    assert [
        s["Name"]
        for s in scheduler.list_schedules(GroupName=unique_name, NamePrefix="s", State="DISABLED")["Schedules"]
    ] == ["s1", "s3"]
    names, token, pages = [], None, 0
    while True:
        page = scheduler.list_schedules(GroupName=unique_name, MaxResults=4, **({"NextToken": token} if token else {}))
        names += [s["Name"] for s in page["Schedules"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert (pages, names) == (2, ["other", "s0", "s1", "s2", "s3", "s4"])
    paginated = scheduler.get_paginator("list_schedules").paginate(
        GroupName=unique_name, PaginationConfig={"PageSize": 2}
    )
    assert sum(len(p["Schedules"]) for p in paginated) == 6
    assert refused(scheduler.list_schedules, GroupName="no-such-group")[0] == "ResourceNotFoundException"
    assert refused(scheduler.list_schedules, NextToken="%%%")[0] == "ValidationException"


def test_client_token_makes_retries_idempotent(scheduler, unique_name):
    params = dict(
        Name=unique_name,
        ScheduleExpression="rate(1 day)",
        Target=target(),
        FlexibleTimeWindow=OFF,
        ClientToken="token-1",
    )
    arn = scheduler.create_schedule(**params)["ScheduleArn"]
    assert scheduler.create_schedule(**params)["ScheduleArn"] == arn  # a retry of the same call
    assert refused(scheduler.create_schedule, **dict(params, ClientToken="token-2"))[0] == "ConflictException"
    assert refused(scheduler.create_schedule, **dict(params, Description="changed"))[0] == "ConflictException"
    scheduler.delete_schedule(Name=unique_name, ClientToken="delete-1")
    scheduler.delete_schedule(Name=unique_name, ClientToken="delete-1")  # the retry succeeds too
    assert (
        refused(scheduler.delete_schedule, Name=unique_name, ClientToken="delete-2")[0] == "ResourceNotFoundException"
    )


# --- what CreateSchedule refuses -------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 hours)",
        "cron(0 12 * * * *)",
        "cron(0 12 * * ?)",
        "at(2030-02-30T00:00:00)",
        "every day",
    ],
)
def test_invalid_expressions(scheduler, unique_name, expression):
    code, status, message = refused(
        scheduler.create_schedule,
        Name=unique_name,
        ScheduleExpression=expression,
        Target=target(),
        FlexibleTimeWindow=OFF,
    )
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith(f"Invalid Schedule Expression {expression}.")


def test_invalid_settings(lamina, unique_name):
    scheduler = unvalidated_client(lamina, "scheduler")  # the server checks ranges, not only boto3

    def attempt(**more):
        params = dict(Name=unique_name, ScheduleExpression="rate(1 hour)", Target=target(), FlexibleTimeWindow=OFF)
        params.update(more)
        return refused(scheduler.create_schedule, **params)

    now = datetime.now(timezone.utc)
    assert attempt(ScheduleExpressionTimezone="Mars/Base")[:2] == ("ValidationException", 400)
    assert "FLEXIBLE" in attempt(FlexibleTimeWindow={"Mode": "FLEXIBLE"})[2]
    assert attempt(FlexibleTimeWindow={"Mode": "OFF", "MaximumWindowInMinutes": 5})[0] == "ValidationException"
    assert attempt(FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441})[0] == "ValidationException"
    assert attempt(StartDate=now + timedelta(hours=2), EndDate=now + timedelta(hours=1))[0] == "ValidationException"
    assert attempt(EndDate=now - timedelta(hours=1))[0] == "ValidationException"
    assert attempt(StartDate=now - timedelta(hours=1))[0] == "ValidationException"
    assert attempt(Target=target(RetryPolicy={"MaximumRetryAttempts": 186}))[0] == "ValidationException"
    assert attempt(Target=target(RetryPolicy={"MaximumEventAgeInSeconds": 59}))[0] == "ValidationException"
    assert attempt(State="PAUSED")[0] == "ValidationException"


def test_targets_lamina_does_not_invoke_are_refused_clearly(scheduler, unique_name):
    def attempt(arn, **more):
        return refused(
            scheduler.create_schedule,
            Name=unique_name,
            ScheduleExpression="rate(1 hour)",
            Target=target(arn, **more),
            FlexibleTimeWindow=OFF,
        )

    code, status, message = attempt("arn:aws:scheduler:::aws-sdk:sqs:sendMessage", Input='{"QueueUrl": "x"}')
    assert (code, status) == ("ValidationException", 400) and "Universal targets" in message
    code, _, message = attempt("arn:aws:states:us-east-1:000000000000:stateMachine:flow")
    assert code == "ValidationException" and "states" in message
    assert attempt("arn:aws:events:us-east-1:000000000000:event-bus/default")[0] == "ValidationException"
    assert attempt(QUEUE, EventBridgeParameters={"DetailType": "d", "Source": "s"})[0] == "ValidationException"
    assert attempt(QUEUE + ".fifo")[0] == "ValidationException"  # a FIFO queue needs a MessageGroupId
    assert attempt("not-an-arn")[0] == "ValidationException"
