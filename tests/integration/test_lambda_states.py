"""Lambda's states as AWS shows them: CreateFunction answers Pending and the function becomes
Active once Lamina has prepared it, an update answers InProgress and becomes Successful, a
published version is Pending then Active, a failed preparation leaves Failed with AWS's
reason code; boto3's waiters work on them. Also: when RevisionId changes, the fields of an
event source mapping, and AWS's words when something is not there."""

from __future__ import annotations

import io
import zipfile

import pytest
from botocore.exceptions import ClientError

from lamina.engine.runtimes import LANGUAGE_RUNTIMES, Runtimes
from tests.conftest import make_zip

from .test_lambda_helpers import error_of, function_arn, invoke, wait_until

CREATING = "The function is being created."
FAST = {"Delay": 1, "MaxAttempts": 60}


def config_of(client, name: str, qualifier: str | None = None) -> dict:
    params = {"FunctionName": name}
    if qualifier:
        params["Qualifier"] = qualifier
    return client.get_function_configuration(**params)


def corrupt_zip() -> bytes:
    """A zip whose directory reads but whose file's data fails its CRC on unpacking, so it
    passes CreateFunction's check and fails preparation, as an unreadable package does."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'never'\n" + "#" * 200)
    data = bytearray(buffer.getvalue())
    start = data.index(b"def handler")
    data[start + 10 : start + 20] = b"XXXXXXXXXX"
    return bytes(data)


# --- Pending -> Active ------------------------------------------------------------------------


def test_create_answers_pending_then_active_and_the_waiters_work(lambda_client, create_function, unique_name):
    created = create_function()
    assert created["State"] == "Pending"
    assert created["StateReason"] == CREATING
    assert created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created
    lambda_client.get_waiter("function_exists").wait(FunctionName=unique_name, WaiterConfig=FAST)
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    lambda_client.get_waiter("function_active").wait(FunctionName=unique_name, WaiterConfig=FAST)
    active = config_of(lambda_client, unique_name)
    assert active["State"] == "Active"
    assert active["LastUpdateStatus"] == "Successful"
    for absent in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
        assert absent not in active
    # AWS gives the function a new revision when it settles.
    assert active["RevisionId"] != created["RevisionId"]


def test_function_exists_waiter_retries_until_the_function_is_there(lambda_client, unique_name):
    with pytest.raises(Exception) as excinfo:
        lambda_client.get_waiter("function_exists").wait(
            FunctionName=unique_name, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )
    assert "ResourceNotFoundException" in str(excinfo.value)


def test_an_invoke_right_after_create_waits_for_the_function_to_be_ready(lambda_client, create_function, unique_name):
    created = create_function({"app.py": "def handler(event, context):\n    return {'ok': event['n']}\n"})
    assert created["State"] == "Pending"
    response, payload = invoke(lambda_client, unique_name, {"n": 1})  # no ResourceConflictException
    assert response["StatusCode"] == 200 and payload == {"ok": 1}
    assert config_of(lambda_client, unique_name)["State"] == "Active"


# --- updates: InProgress -> Successful --------------------------------------------------------


def test_updates_answer_in_progress_then_successful(lambda_client, create_function, unique_name):
    create_function()
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    code = make_zip({"app.py": "def handler(event, context):\n    return 'two'\n"})
    updated = lambda_client.update_function_code(FunctionName=unique_name, ZipFile=code)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"] == CREATING
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["State"] == "Active"
    # A second update right away waits for the first (AWS would refuse it): both apply.
    configured = lambda_client.update_function_configuration(FunctionName=unique_name, Description="second")
    assert configured["LastUpdateStatus"] == "InProgress"
    assert configured["CodeSha256"] == updated["CodeSha256"]
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    lambda_client.get_waiter("function_updated").wait(FunctionName=unique_name, WaiterConfig=FAST)
    done = config_of(lambda_client, unique_name)
    assert (done["LastUpdateStatus"], done["State"], done["Description"]) == ("Successful", "Active", "second")
    assert "LastUpdateStatusReason" not in done and "LastUpdateStatusReasonCode" not in done
    assert done["RevisionId"] not in (updated["RevisionId"], configured["RevisionId"])
    assert invoke(lambda_client, unique_name)[1] == "two"


def test_publish_version_answers_pending_then_active(lambda_client, create_function, unique_name):
    create_function()
    published = lambda_client.publish_version(FunctionName=unique_name)
    assert published["Version"] == "1"
    assert (published["State"], published["StateReason"], published["StateReasonCode"]) == (
        "Pending",
        CREATING,
        "Creating",
    )
    lambda_client.get_waiter("published_version_active").wait(
        FunctionName=unique_name, Qualifier="1", WaiterConfig=FAST
    )
    version = config_of(lambda_client, unique_name, "1")
    assert version["State"] == "Active" and "StateReason" not in version
    assert invoke(lambda_client, unique_name, {"v": 1}, Qualifier="1")[1] == {"v": 1}


# --- failed preparations ----------------------------------------------------------------------


def test_an_unreadable_zip_leaves_the_function_failed(lambda_client, create_function, unique_name):
    created = create_function(corrupt_zip())
    assert created["State"] == "Pending"
    with pytest.raises(Exception) as excinfo:
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    assert "Failed" in str(excinfo.value)
    failed = config_of(lambda_client, unique_name)
    assert failed["State"] == "Failed"
    assert failed["StateReasonCode"] == "InvalidZipFileException"
    assert failed["StateReason"] == "Could not unzip uploaded file. Please check your file, then try to upload again."
    with pytest.raises(ClientError) as refused:
        invoke(lambda_client, unique_name)
    assert error_of(refused) == (
        "ResourceConflictException",
        409,
        "The operation cannot be performed at this time. The function is currently in the following state: Failed",
    )
    # New code fixes it, as on AWS.
    good = make_zip({"app.py": "def handler(event, context):\n    return 'fixed'\n"})
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=good)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    fixed = config_of(lambda_client, unique_name)
    assert (fixed["State"], fixed["LastUpdateStatus"]) == ("Active", "Successful")
    assert "StateReason" not in fixed
    assert invoke(lambda_client, unique_name)[1] == "fixed"


def test_a_failed_update_keeps_the_previous_code_running(lambda_client, create_function, unique_name):
    create_function({"app.py": "def handler(event, context):\n    return 'first'\n"})
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    updated = lambda_client.update_function_code(FunctionName=unique_name, ZipFile=corrupt_zip())
    assert updated["LastUpdateStatus"] == "InProgress"
    with pytest.raises(Exception) as excinfo:
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    assert "Failed" in str(excinfo.value)
    failed = config_of(lambda_client, unique_name)
    assert (failed["State"], failed["LastUpdateStatus"]) == ("Active", "Failed")
    assert failed["LastUpdateStatusReasonCode"] == "InvalidZipFileException"
    # "Lambda aborts the update and the function's previous code and configuration remain available."
    assert invoke(lambda_client, unique_name)[1] == "first"


def test_a_runtime_this_host_cannot_run_is_refused_up_front(lambda_client, create_function, unique_name):
    # Not a Pending function that can only fail: refused, saying what to install. (A function
    # whose interpreter goes away after it was created is Failed, InvalidRuntime, when prepared.)
    runtimes = Runtimes()
    missing = [r for r in LANGUAGE_RUNTIMES if runtimes.find(r) is None]
    if not missing:
        pytest.skip("this host has an interpreter for every runtime")
    handler = "app.handler" if missing[0].startswith("python") else "index.handler"
    with pytest.raises(ClientError) as refused:
        create_function(
            {"app.py": "def handler(e, c):\n    return 1\n", "index.js": "exports.handler = async () => 1;\n"},
            handler=handler,
            Runtime=missing[0],
        )
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidParameterValueException", runtimes.missing(missing[0]))


# --- RevisionId ---------------------------------------------------------------------------------


def test_revision_id_changes_with_every_change(lambda_client, create_function, unique_name):
    create_function()
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    seen = [config_of(lambda_client, unique_name)["RevisionId"]]

    def changed(what: str) -> None:
        revision = config_of(lambda_client, unique_name)["RevisionId"]
        assert revision not in seen, what
        seen.append(revision)

    def unchanged(what: str) -> None:
        assert config_of(lambda_client, unique_name)["RevisionId"] == seen[-1], what

    lambda_client.update_function_configuration(FunctionName=unique_name, Timeout=9)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=unique_name, WaiterConfig=FAST)
    changed("UpdateFunctionConfiguration")
    added = lambda_client.add_permission(
        FunctionName=unique_name, StatementId="s1", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com"
    )
    assert added["Statement"]
    changed("AddPermission")
    assert lambda_client.get_policy(FunctionName=unique_name)["RevisionId"] == seen[-1]
    with pytest.raises(ClientError) as stale:
        lambda_client.add_permission(
            FunctionName=unique_name,
            StatementId="s2",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            RevisionId=seen[-2],
        )
    assert error_of(stale)[0] == "PreconditionFailedException"
    lambda_client.remove_permission(FunctionName=unique_name, StatementId="s1")
    changed("RemovePermission")
    lambda_client.publish_version(FunctionName=unique_name)
    changed("PublishVersion")
    lambda_client.tag_resource(Resource=function_arn(unique_name), Tags={"a": "b"})
    unchanged("TagResource")
    alias = lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    moved = lambda_client.update_alias(FunctionName=unique_name, Name="live", Description="moved")
    assert moved["RevisionId"] != alias["RevisionId"]
    lambda_client.add_permission(
        FunctionName=unique_name,
        Qualifier="live",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
    )
    after = lambda_client.get_alias(FunctionName=unique_name, Name="live")["RevisionId"]
    assert after != moved["RevisionId"]
    assert lambda_client.get_policy(FunctionName=unique_name, Qualifier="live")["RevisionId"] == after


# --- event source mappings ------------------------------------------------------------------------


def test_mapping_fields_as_aws_shows_them(lambda_client, create_function, unique_name, queue, kinesis, mappings):
    create_function()
    _, queue_arn = queue()
    made = mappings(EventSourceArn=queue_arn, FunctionName=unique_name)
    assert made["State"] == "Creating" and made["StateTransitionReason"] == "USER_INITIATED"
    assert "LastProcessingResult" not in made
    got = wait_until(
        lambda: (lambda m: m if m["State"] == "Enabled" else None)(
            lambda_client.get_event_source_mapping(UUID=made["UUID"])
        ),
        what="Enabled",
    )
    assert got["StateTransitionReason"] == "USER_INITIATED" and "LastProcessingResult" not in got

    kinesis.create_stream(StreamName=unique_name, ShardCount=1)
    try:
        stream_arn = kinesis.describe_stream_summary(StreamName=unique_name)["StreamDescriptionSummary"]["StreamARN"]
        stream = mappings(EventSourceArn=stream_arn, FunctionName=unique_name, StartingPosition="LATEST")
        assert stream["State"] == "Creating"
        assert stream["StateTransitionReason"] == "User action"
        assert stream["LastProcessingResult"] == "No records processed"
        got = lambda_client.get_event_source_mapping(UUID=stream["UUID"])
        assert got["StateTransitionReason"] == "User action"
        assert got["LastProcessingResult"] == "No records processed"
    finally:
        lambda_client.delete_event_source_mapping(UUID=stream["UUID"])
        kinesis.delete_stream(StreamName=unique_name)


# --- AWS's words when something is not there ----------------------------------------------------


def test_not_found_messages(lambda_client, create_function, unique_name, queue):
    missing = f"{unique_name}-missing"
    for call in (
        lambda: lambda_client.get_function(FunctionName=missing),
        lambda: lambda_client.get_function_configuration(FunctionName=missing),
        lambda: lambda_client.invoke(FunctionName=missing),
        lambda: lambda_client.delete_function(FunctionName=missing),
        lambda: lambda_client.update_function_code(FunctionName=missing, ZipFile=make_zip({"a.py": ""})),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("ResourceNotFoundException", 404, f"Function not found: {function_arn(missing)}")
    create_function()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function(FunctionName=unique_name, Qualifier="7")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        404,
        f"Function not found: {function_arn(unique_name, '7')}",
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_alias(FunctionName=unique_name, Name="nope")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        404,
        f"Cannot find alias arn: {function_arn(unique_name, 'nope')}",
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")
    assert error_of(excinfo) == ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
    _, queue_arn = queue()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=missing)
    assert error_of(excinfo) == ("InvalidParameterValueException", 400, "Function does not exist")
