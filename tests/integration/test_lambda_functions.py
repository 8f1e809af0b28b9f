"""Lambda's control plane against a live server: functions, code, versions, aliases, tags,
account settings, revision ids, with AWS's response shapes and error codes."""

from __future__ import annotations

import re
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import error_of, function_arn, invoke, sha256_b64


def versioned_code(version: int) -> bytes:
    return make_zip(
        {
            "app.py": f"""
        import os
        VERSION = {version}
        def handler(event, context):
            return {{"v": VERSION, "fv": context.function_version, "env": os.environ.get("COLOR")}}
        """
        }
    )


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
        return True
    except (ValueError, TypeError):
        return False


# --- CreateFunction / GetFunction / GetFunctionConfiguration -------------------------------


def test_create_function_stores_and_returns_every_field(lambda_client, unique_name):
    layer_zip = make_zip({"python/shared_lib.py": "GREETING = 'from the layer'\n"})
    layer = lambda_client.publish_layer_version(
        LayerName=f"{unique_name}-libs", Content={"ZipFile": layer_zip}, CompatibleRuntimes=["python3.12"]
    )
    LAYER = layer["LayerVersionArn"]
    code = make_zip({"app.py": "import shared_lib\ndef handler(event, context):\n    return shared_lib.GREETING\n"})
    created = lambda_client.create_function(
        FunctionName=unique_name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code},
        MemorySize=256,
        Timeout=17,
        Description="all the fields",
        Environment={"Variables": {"COLOR": "blue", "SIZE": "3"}},
        Tags={"team": "core", "env": "test"},
        Layers=[LAYER],
        Architectures=["arm64"],
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionName"] == unique_name
    assert created["FunctionArn"] == function_arn(unique_name)
    assert created["Runtime"] == "python3.12"
    assert created["Role"] == ROLE
    assert created["Handler"] == "app.handler"
    assert created["MemorySize"] == 256
    assert created["Timeout"] == 17
    assert created["Description"] == "all the fields"
    assert created["Environment"] == {"Variables": {"COLOR": "blue", "SIZE": "3"}}
    assert [layer["Arn"] for layer in created["Layers"]] == [LAYER]
    assert created["Layers"][0]["CodeSize"] == len(layer_zip)
    assert created["Architectures"] == ["arm64"]
    assert created["CodeSize"] == len(code)
    assert created["CodeSha256"] == sha256_b64(code)
    assert created["Version"] == "$LATEST"
    # As on AWS: Pending while Lamina prepares it (tests/integration/test_lambda_states.py).
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created
    assert created["PackageType"] == "Zip"
    assert is_uuid(created["RevisionId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", created["LastModified"])

    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name, WaiterConfig={"Delay": 1})
    configuration = lambda_client.get_function_configuration(FunctionName=unique_name)
    assert (configuration["State"], configuration["LastUpdateStatus"]) == ("Active", "Successful")
    for field in (
        "FunctionArn",
        "Runtime",
        "Handler",
        "MemorySize",
        "Timeout",
        "Description",
        "Environment",
        "Layers",
        "Architectures",
        "CodeSha256",
        "CodeSize",
        "Version",
    ):
        assert configuration[field] == created[field], field

    function = lambda_client.get_function(FunctionName=unique_name)
    # Settling gives the function a new revision, as on AWS.
    assert function["Configuration"]["RevisionId"] == configuration["RevisionId"] != created["RevisionId"]
    assert function["Tags"] == {"team": "core", "env": "test"}
    assert function["Code"]["RepositoryType"] == "S3"
    assert invoke(lambda_client, unique_name)[1] == "from the layer"


@pytest.mark.parametrize("runtime", ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13"])
def test_python_runtimes_are_accepted_and_run(lambda_client, create_function, unique_name, runtime):
    created = create_function(Runtime=runtime)
    assert created["Runtime"] == runtime
    assert lambda_client.get_function_configuration(FunctionName=unique_name)["Runtime"] == runtime
    response, payload = invoke(lambda_client, unique_name, {"runtime": runtime})
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert payload == {"runtime": runtime}


def test_get_function_code_location_serves_the_exact_zip(lambda_client, create_function, unique_name):
    code = make_zip({"app.py": "def handler(event, context):\n    return 1\n", "data/blob.bin": bytes(range(256)) * 40})
    create_function(code=code)
    location = lambda_client.get_function(FunctionName=unique_name)["Code"]["Location"]
    assert location.startswith("http")
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.status == 200
        assert response.read() == code


def test_get_function_by_arn_and_qualifier_forms(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    for name, qualifier, version in [
        (unique_name, None, "$LATEST"),
        (function_arn(unique_name), None, "$LATEST"),
        (unique_name, "1", "1"),
        (f"{unique_name}:1", None, "1"),
        (function_arn(unique_name, "1"), None, "1"),
        (f"000000000000:function:{unique_name}", "$LATEST", "$LATEST"),
    ]:
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        configuration = lambda_client.get_function_configuration(FunctionName=name, **kwargs)
        assert configuration["Version"] == version, (name, qualifier)
        assert configuration["FunctionName"] == unique_name


# --- ListFunctions ------------------------------------------------------------------------


def test_list_functions_pages_with_marker_and_max_items(lambda_client, create_function, unique_name):
    names = {f"{unique_name}-{i}" for i in range(5)}
    for name in names:
        create_function(name=name)
    seen: dict[str, dict] = {}
    marker = None
    pages = 0
    while True:
        page = lambda_client.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["Functions"]) <= 2
        for function in page["Functions"]:
            assert function["FunctionName"] not in seen, "a function appeared on two pages"
            seen[function["FunctionName"]] = function
        pages += 1
        marker = page.get("NextMarker")
        if not marker:
            break
    assert names <= set(seen)
    assert pages >= 3
    for name in names:
        assert seen[name]["FunctionArn"] == function_arn(name)
        assert seen[name]["Version"] == "$LATEST"

    by_paginator = [
        f["FunctionName"]
        for page in lambda_client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
        for f in page["Functions"]
    ]
    assert names <= set(by_paginator)
    assert len(by_paginator) == len(set(by_paginator))


def test_list_functions_all_versions(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    versions = [
        f["Version"]
        for page in lambda_client.get_paginator("list_functions").paginate(FunctionVersion="ALL")
        for f in page["Functions"]
        if f["FunctionName"] == unique_name
    ]
    assert sorted(versions) == ["$LATEST", "1"]


# --- UpdateFunctionCode / UpdateFunctionConfiguration ---------------------------------------


def test_update_function_code_changes_sha_revision_and_warm_instance_code(lambda_client, create_function, unique_name):
    created = create_function(code=versioned_code(1))
    _, before = invoke(lambda_client, unique_name)  # leaves a warm instance behind
    assert before["v"] == 1

    new_code = versioned_code(2)
    updated = lambda_client.update_function_code(FunctionName=unique_name, ZipFile=new_code)
    assert updated["CodeSha256"] == sha256_b64(new_code) != created["CodeSha256"]
    assert updated["CodeSize"] == len(new_code)
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["LastUpdateStatus"] == "InProgress"
    assert lambda_client.get_function_configuration(FunctionName=unique_name)["CodeSha256"] == sha256_b64(new_code)

    _, after = invoke(lambda_client, unique_name)
    assert after["v"] == 2
    location = lambda_client.get_function(FunctionName=unique_name)["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.read() == new_code


def test_update_function_configuration_is_seen_by_the_next_invoke(lambda_client, create_function, unique_name):
    created = create_function(code=versioned_code(1), Environment={"Variables": {"COLOR": "red"}})
    _, first = invoke(lambda_client, unique_name)
    assert first["env"] == "red"
    updated = lambda_client.update_function_configuration(
        FunctionName=unique_name,
        Environment={"Variables": {"COLOR": "green"}},
        MemorySize=512,
        Timeout=9,
        Description="changed",
    )
    assert updated["Environment"] == {"Variables": {"COLOR": "green"}}
    assert (updated["MemorySize"], updated["Timeout"], updated["Description"]) == (512, 9, "changed")
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["CodeSha256"] == created["CodeSha256"]
    _, second = invoke(lambda_client, unique_name)
    assert second["env"] == "green"


def test_stale_revision_id_is_a_precondition_failure(lambda_client, create_function, unique_name):
    create_function()
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=unique_name, WaiterConfig={"Delay": 1})
    created = lambda_client.get_function_configuration(FunctionName=unique_name)
    fresh = lambda_client.update_function_configuration(
        FunctionName=unique_name, Description="one", RevisionId=created["RevisionId"]
    )
    assert fresh["RevisionId"] != created["RevisionId"]
    for call in (
        lambda: lambda_client.update_function_configuration(
            FunctionName=unique_name, Description="two", RevisionId=created["RevisionId"]
        ),
        lambda: lambda_client.update_function_code(
            FunctionName=unique_name, ZipFile=versioned_code(5), RevisionId=created["RevisionId"]
        ),
        lambda: lambda_client.publish_version(FunctionName=unique_name, RevisionId=created["RevisionId"]),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        code, status, _ = error_of(excinfo)
        assert (code, status) == ("PreconditionFailedException", 412)
    assert lambda_client.get_function_configuration(FunctionName=unique_name)["Description"] == "one"


# --- versions --------------------------------------------------------------------------------


def test_publish_version_and_list_versions(lambda_client, create_function, unique_name):
    created = create_function(code=versioned_code(1))
    first = lambda_client.publish_version(FunctionName=unique_name, Description="first")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["Version"] == "1"
    assert first["FunctionArn"] == function_arn(unique_name, "1")
    assert first["CodeSha256"] == created["CodeSha256"]
    assert first["Description"] == "first"
    assert first["State"] == "Pending"  # then Active (tests/integration/test_lambda_states.py)

    again = lambda_client.publish_version(FunctionName=unique_name)
    assert again["Version"] == "1", "publishing an unchanged $LATEST returns the same version"

    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2))
    second = lambda_client.publish_version(FunctionName=unique_name)
    assert second["Version"] == "2"

    versions = lambda_client.list_versions_by_function(FunctionName=unique_name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[1]["FunctionArn"] == function_arn(unique_name, "1")

    paged = [
        v["Version"]
        for page in lambda_client.get_paginator("list_versions_by_function").paginate(
            FunctionName=unique_name, PaginationConfig={"PageSize": 1}
        )
        for v in page["Versions"]
    ]
    assert paged == ["$LATEST", "1", "2"]

    # A version keeps the code it was published with.
    assert invoke(lambda_client, unique_name, Qualifier="1")[1]["v"] == 1
    assert invoke(lambda_client, unique_name, Qualifier="2")[1]["v"] == 2


def test_create_with_publish_makes_version_one(lambda_client, create_function, unique_name):
    created = create_function(Publish=True)
    assert created["Version"] == "1"
    assert created["FunctionArn"] == function_arn(unique_name)
    versions = lambda_client.list_versions_by_function(FunctionName=unique_name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    # $LATEST's revision, as GetFunction reports it, is usable for a conditional update.
    latest = lambda_client.get_function_configuration(FunctionName=unique_name)
    lambda_client.update_function_configuration(
        FunctionName=unique_name, Description="x", RevisionId=latest["RevisionId"]
    )


def test_update_code_with_publish_returns_the_new_version(lambda_client, create_function, unique_name):
    create_function(code=versioned_code(1), Publish=True)
    updated = lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2), Publish=True)
    assert updated["Version"] == "2"
    assert updated["CodeSha256"] == sha256_b64(versioned_code(2))
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=unique_name, WaiterConfig={"Delay": 1})
    latest = lambda_client.get_function_configuration(FunctionName=unique_name)
    # The RevisionId stored for $LATEST is the one a client can condition its next update on.
    lambda_client.update_function_configuration(
        FunctionName=unique_name, Description="y", RevisionId=latest["RevisionId"]
    )
    assert invoke(lambda_client, unique_name, Qualifier="2")[1]["v"] == 2


def test_delete_function_version_with_qualifier(lambda_client, create_function, unique_name):
    create_function(code=versioned_code(1), Publish=True)
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2), Publish=True)
    response = lambda_client.delete_function(FunctionName=unique_name, Qualifier="1")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    versions = lambda_client.list_versions_by_function(FunctionName=unique_name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function(FunctionName=unique_name, Qualifier="1")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:
        invoke(lambda_client, unique_name, Qualifier="1")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    assert invoke(lambda_client, unique_name, Qualifier="2")[1]["v"] == 2


def test_delete_function_removes_it_everywhere(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    invoke(lambda_client, unique_name)
    assert lambda_client.delete_function(FunctionName=unique_name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (
        lambda: lambda_client.get_function(FunctionName=unique_name),
        lambda: lambda_client.get_function(FunctionName=unique_name, Qualifier="1"),
        lambda: lambda_client.get_alias(FunctionName=unique_name, Name="live"),
        lambda: lambda_client.invoke(FunctionName=unique_name, Payload=b"{}"),
        lambda: lambda_client.delete_function(FunctionName=unique_name),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    # The name is free again, with a fresh version history.
    create_function(name=unique_name)
    versions = lambda_client.list_versions_by_function(FunctionName=unique_name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST"]


# --- aliases ---------------------------------------------------------------------------------


def test_alias_lifecycle(lambda_client, create_function, unique_name):
    create_function(code=versioned_code(1), Publish=True)
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2), Publish=True)

    alias = lambda_client.create_alias(
        FunctionName=unique_name, Name="live", FunctionVersion="1", Description="production"
    )
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert alias["AliasArn"] == function_arn(unique_name, "live")
    assert (alias["Name"], alias["FunctionVersion"], alias["Description"]) == ("live", "1", "production")
    assert is_uuid(alias["RevisionId"])

    fetched = lambda_client.get_alias(FunctionName=unique_name, Name="live")
    assert {k: fetched[k] for k in ("AliasArn", "Name", "FunctionVersion", "RevisionId")} == {
        k: alias[k] for k in ("AliasArn", "Name", "FunctionVersion", "RevisionId")
    }
    assert invoke(lambda_client, unique_name, Qualifier="live")[1]["v"] == 1

    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="2")
    assert error_of(excinfo)[:2] == ("ResourceConflictException", 409)

    updated = lambda_client.update_alias(
        FunctionName=unique_name, Name="live", FunctionVersion="2", RevisionId=alias["RevisionId"]
    )
    assert updated["FunctionVersion"] == "2"
    assert updated["RevisionId"] != alias["RevisionId"]
    assert invoke(lambda_client, unique_name, Qualifier="live")[1]["v"] == 2

    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_alias(
            FunctionName=unique_name, Name="live", FunctionVersion="1", RevisionId=alias["RevisionId"]
        )
    assert error_of(excinfo)[:2] == ("PreconditionFailedException", 412)

    lambda_client.create_alias(FunctionName=unique_name, Name="canary", FunctionVersion="1")
    listed = lambda_client.list_aliases(FunctionName=unique_name)["Aliases"]
    assert sorted(a["Name"] for a in listed) == ["canary", "live"]
    only_v1 = lambda_client.list_aliases(FunctionName=unique_name, FunctionVersion="1")["Aliases"]
    assert [a["Name"] for a in only_v1] == ["canary"]
    paged = [
        a["Name"]
        for page in lambda_client.get_paginator("list_aliases").paginate(
            FunctionName=unique_name, PaginationConfig={"PageSize": 1}
        )
        for a in page["Aliases"]
    ]
    assert sorted(paged) == ["canary", "live"]

    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_alias(FunctionName=unique_name, Name="ghost", FunctionVersion="7")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)

    assert (
        lambda_client.delete_alias(FunctionName=unique_name, Name="live")["ResponseMetadata"]["HTTPStatusCode"] == 204
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_alias(FunctionName=unique_name, Name="live")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as excinfo:
        invoke(lambda_client, unique_name, Qualifier="live")
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_version_used_by_an_alias_cannot_be_deleted(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    lambda_client.create_alias(FunctionName=unique_name, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_function(FunctionName=unique_name, Qualifier="1")
    assert error_of(excinfo)[:2] == ("ResourceConflictException", 409)
    assert lambda_client.get_function(FunctionName=unique_name, Qualifier="1")["Configuration"]["Version"] == "1"


# --- tags and account settings -------------------------------------------------------------


def test_tag_untag_list_tags(lambda_client, create_function, unique_name):
    create_function(Tags={"a": "1"})
    arn = function_arn(unique_name)
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"a": "1"}
    response = lambda_client.tag_resource(Resource=arn, Tags={"b": "2", "c": "3"})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"a": "1", "b": "2", "c": "3"}
    lambda_client.untag_resource(Resource=arn, TagKeys=["a", "c"])
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    assert lambda_client.get_function(FunctionName=unique_name)["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as excinfo:
        lambda_client.list_tags(Resource=function_arn(unique_name + "-missing"))
    assert error_of(excinfo)[:2] == ("ResourceNotFoundException", 404)


def test_get_account_settings(lambda_client, create_function, unique_name):
    before = lambda_client.get_account_settings()
    limit = before["AccountLimit"]
    assert limit["ConcurrentExecutions"] == 1000
    assert limit["CodeSizeZipped"] == 50 * 1024 * 1024
    assert limit["CodeSizeUnzipped"] == 250 * 1024 * 1024
    assert limit["TotalCodeSize"] > 0
    assert limit["UnreservedConcurrentExecutions"] <= limit["ConcurrentExecutions"]
    created = create_function()
    after = lambda_client.get_account_settings()["AccountUsage"]
    assert after["FunctionCount"] == before["AccountUsage"]["FunctionCount"] + 1
    assert after["TotalCodeSize"] >= before["AccountUsage"]["TotalCodeSize"] + created["CodeSize"]


def test_list_pages_hold_at_most_50(lambda_client, create_function, unique_name):
    for i in range(51):
        create_function(name=f"{unique_name}-{i:02d}")
    page = lambda_client.list_functions(MaxItems=200)
    assert len(page["Functions"]) == 50, "ListFunctions returns at most 50 items, even when asked for more"
    assert page["NextMarker"]


def test_garbage_markers_are_rejected(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    lambda_client.create_alias(FunctionName=unique_name, Name="a", FunctionVersion="1")
    for call in (
        lambda: lambda_client.list_functions(Marker="%%not-a-marker%%"),
        lambda: lambda_client.list_versions_by_function(FunctionName=unique_name, Marker="%%not-a-marker%%"),
        lambda: lambda_client.list_aliases(FunctionName=unique_name, Marker="%%not-a-marker%%"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        code, status, _ = error_of(excinfo)
        assert (code, status) == ("InvalidParameterValueException", 400)


def test_publish_version_with_a_stale_code_sha(lambda_client, create_function, unique_name):
    created = create_function(code=versioned_code(1))
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=versioned_code(2))
    with pytest.raises(ClientError) as excinfo:
        lambda_client.publish_version(FunctionName=unique_name, CodeSha256=created["CodeSha256"])
    assert error_of(excinfo)[:2] == ("InvalidParameterValueException", 400)
    published = lambda_client.publish_version(FunctionName=unique_name, CodeSha256=sha256_b64(versioned_code(2)))
    assert published["Version"] == "1"


def test_a_function_belongs_to_its_region(lamina, unique_name):
    from tests.conftest import ROLE, make_zip

    west, north = lamina.client("lambda", "us-west-2"), lamina.client("lambda", "eu-north-1")
    arn = west.create_function(
        FunctionName=unique_name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 1\n"})},
    )["FunctionArn"]
    for call in (lambda: north.get_function(FunctionName=arn), lambda: north.invoke(FunctionName=arn)):
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response["Error"]
        assert error["Code"] == "ResourceNotFoundException"
        assert error["Message"] == "Functions from 'us-west-2' are not reachable in this region ('eu-north-1')"
    west.delete_function(FunctionName=unique_name)
