"""What Lambda accepted survives kill -9: functions, versions, aliases, code, logs, and
async invocations that were answered 202 (they run after the restart, at least once)."""

from __future__ import annotations

import json
import urllib.request

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import invoke, log_messages, sha256_b64, wait_for_log_lines, wait_until

CODE = make_zip(
    {
        "app.py": """
    import time
    def handler(event, context):
        if event.get("sleep"):
            time.sleep(event["sleep"])
        print(f"ran {event.get('id')} v{context.function_version}")
        return {"version": context.function_version, "id": event.get("id")}
    """
    }
)


def test_functions_versions_aliases_and_logs_survive_kill_9(lamina_factory):
    server = lamina_factory()
    client = server.client("lambda")
    name = "persisted"
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        Environment={"Variables": {"KEY": "v"}},
        Tags={"keep": "me"},
    )
    version = client.publish_version(FunctionName=name, Description="first")
    alias = client.create_alias(FunctionName=name, Name="live", FunctionVersion=version["Version"])
    response, payload = invoke(client, name, {"id": "before"}, Qualifier="live")
    assert payload == {"version": "1", "id": "before"}
    before_request = response["ResponseMetadata"]["RequestId"]
    wait_for_log_lines(server, name, "ran before v1")
    configuration = client.get_function_configuration(FunctionName=name)

    server.restart(kill=True)
    client = server.client("lambda")

    after = client.get_function_configuration(FunctionName=name)
    for field in ("FunctionArn", "CodeSha256", "CodeSize", "RevisionId", "Environment", "Handler", "Runtime"):
        assert after[field] == configuration[field], field
    assert after["CodeSha256"] == sha256_b64(CODE)
    assert [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1"]
    assert client.get_function(FunctionName=name, Qualifier="1")["Configuration"]["Description"] == "first"
    restored_alias = client.get_alias(FunctionName=name, Name="live")
    assert (restored_alias["FunctionVersion"], restored_alias["RevisionId"]) == ("1", alias["RevisionId"])
    assert client.list_tags(Resource=configuration["FunctionArn"])["Tags"] == {"keep": "me"}
    assert name in [f["FunctionName"] for f in client.list_functions()["Functions"]]

    location = client.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as code:
        assert code.read() == CODE

    messages = log_messages(server, f"/aws/lambda/{name}")
    assert "ran before v1" in messages
    assert any(m.startswith(f"REPORT RequestId: {before_request}") for m in messages)

    assert invoke(client, name, {"id": "after"}, Qualifier="live")[1] == {"version": "1", "id": "after"}
    assert invoke(client, name, {"id": "latest"})[1] == {"version": "$LATEST", "id": "latest"}
    # The store still accepts writes, and the next version number carries on from the old one.
    client.update_function_configuration(FunctionName=name, Environment={"Variables": {"KEY": "w"}})
    assert client.publish_version(FunctionName=name)["Version"] == "2"


def test_accepted_async_invokes_run_after_kill_9(lamina_factory):
    server = lamina_factory()
    client = server.client("lambda")
    name = "slow-async"
    client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": CODE}, Timeout=10
    )
    ids = [f"evt{i}" for i in range(5)]
    for event_id in ids:
        response = client.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"id": event_id, "sleep": 0.5})
        )
        assert response["StatusCode"] == 202
    server.restart(kill=True)  # right after the 202s: most of them have not run yet

    def every_event_ran():
        lines = log_messages(server, f"/aws/lambda/{name}")
        return all(f"ran {event_id} v$LATEST" in lines for event_id in ids)

    wait_until(every_event_ran, timeout=30, interval=0.2, what="every accepted event to run after the restart")
    wait_until(lambda: queue_depth(server) == 0, what="the recovered queue to drain")


def queue_depth(server) -> int:
    with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=5) as response:
        return json.loads(response.read())["async_queue_depth"]
