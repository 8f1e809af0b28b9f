"""Custom runtimes over the Runtime API (a bash bootstrap, and awslambdaric unmodified),
layers at /opt, SnapStart restores with the snapshot_restore_py hooks."""

import base64
import json
import os
import sys
import time

import pytest

from tests.conftest import ROLE, make_zip

BASH_BOOTSTRAP = """#!/bin/bash
set -euo pipefail
echo "bash runtime starting"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  DEADLINE=$(grep -Fi Lambda-Runtime-Deadline-Ms "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  if echo "$EVENT" | grep -q fail; then
    curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/error" \\
      -H "Lambda-Runtime-Function-Error-Type: Bash.Failure" \\
      -d '{"errorMessage": "asked to fail", "errorType": "Bash.Failure"}' > /dev/null
  else
    echo "handling $REQUEST_ID"
    curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" \\
      -d "{\\"event\\": $EVENT, \\"request_id\\": \\"$REQUEST_ID\\", \\"has_deadline\\": ${DEADLINE:+true}}" > /dev/null
  fi
done
"""


def _tail(response) -> str:
    return base64.b64decode(response["LogResult"]).decode()


def test_bash_bootstrap_over_the_runtime_api(create_function, lambda_client, unique_name):
    create_function(
        code={"bootstrap": BASH_BOOTSTRAP}, handler="function.handler", Runtime="provided.al2023", MemorySize=1024
    )
    response = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"n": 1}', LogType="Tail")
    body = json.loads(response["Payload"].read())
    assert body["event"] == {"n": 1} and body["has_deadline"] is True
    assert body["request_id"] == response["ResponseMetadata"]["RequestId"]
    assert "bash runtime starting" in _tail(response) and "Init Duration" in _tail(response)
    warm = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"n": 2}', LogType="Tail")
    assert json.loads(warm["Payload"].read())["event"] == {"n": 2}
    assert "Init Duration" not in _tail(warm)
    failed = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read()) == {"errorMessage": "asked to fail", "errorType": "Bash.Failure"}


def test_awslambdaric_unmodified(create_function, lambda_client, unique_name):
    # provided.al2023 has no Python of its own: the function brings one (this test's, which
    # has awslambdaric installed).
    create_function(
        code={
            "bootstrap": f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.handler\n",
            "app.py": """
            def handler(event, context):
                print("ric handling", context.aws_request_id)
                if event.get("fail"):
                    raise KeyError("nope")
                return {"got": event, "name": context.function_name, "left": context.get_remaining_time_in_millis() > 0}
        """,
        },
        handler="app.handler",
        Runtime="provided.al2023",
    )
    response = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"a": 1}', LogType="Tail")
    assert json.loads(response["Payload"].read()) == {"got": {"a": 1}, "name": unique_name, "left": True}
    assert "ric handling" in _tail(response)
    failed = lambda_client.invoke(FunctionName=unique_name, Payload=b'{"fail": 1}')
    error = json.loads(failed["Payload"].read())
    assert failed["FunctionError"] == "Unhandled" and error["errorType"] == "KeyError"


def test_custom_runtime_without_bootstrap(create_function, lambda_client, unique_name):
    create_function(code={"readme.txt": "no bootstrap here"}, Runtime="provided.al2")
    response = lambda_client.invoke(FunctionName=unique_name)
    error = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled" and error["errorType"] == "Runtime.InvalidEntrypoint"


def test_custom_runtime_init_error_and_crash(create_function, lambda_client, unique_name):
    create_function(
        code={
            "bootstrap": """#!/bin/bash
curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/init/error" \\
  -d '{"errorMessage": "config missing", "errorType": "Init.Broken"}' > /dev/null
sleep 5
"""
        },
        Runtime="provided.al2023",
    )
    error = json.loads(lambda_client.invoke(FunctionName=unique_name)["Payload"].read())
    assert error == {"errorMessage": "config missing", "errorType": "Init.Broken"}
    create_function(code={"bootstrap": "#!/bin/bash\nexit 3\n"}, Runtime="provided.al2023", name=unique_name + "-exit")
    error = json.loads(lambda_client.invoke(FunctionName=unique_name + "-exit")["Payload"].read())
    assert error["errorType"] == "Runtime.ExitError" and "exit status 3" in error["errorMessage"]


def test_layers_are_merged_at_opt_in_order(create_function, lambda_client, unique_name):
    from tests.conftest import make_zip

    first = lambda_client.publish_layer_version(
        LayerName=unique_name + "-a",
        CompatibleRuntimes=["python3.12"],
        Content={"ZipFile": make_zip({"python/helper.py": "WHO = 'a'\n", "python/only_a.py": "X = 1\n"})},
    )
    second = lambda_client.publish_layer_version(
        LayerName=unique_name + "-b", Content={"ZipFile": make_zip({"python/helper.py": "WHO = 'b'\n"})}
    )
    assert first["Version"] == 1 and first["LayerVersionArn"].endswith(f":layer:{unique_name}-a:1")
    create_function(
        code={
            "app.py": """
        import helper, only_a, os, sys
        def handler(event, context):
            return {"who": helper.WHO, "a": only_a.X, "opt": sorted(os.listdir('/opt/python')),
                    "path": [p for p in sys.path if p.startswith('/opt') or p == '/var/task']}
    """
        },
        Layers=[first["LayerVersionArn"], second["LayerVersionArn"]],
    )
    seen = json.loads(lambda_client.invoke(FunctionName=unique_name)["Payload"].read())
    assert seen["who"] == "b" and seen["a"] == 1  # later layers win, earlier ones still there
    assert seen["path"][0] == "/var/task" and "/opt/python" in seen["path"]
    config = lambda_client.get_function_configuration(FunctionName=unique_name)
    assert [layer["Arn"] for layer in config["Layers"]] == [first["LayerVersionArn"], second["LayerVersionArn"]]
    assert config["Layers"][0]["CodeSize"] == first["Content"]["CodeSize"]
    listed = lambda_client.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert [layer["LayerName"] for layer in listed if layer["LayerName"].startswith(unique_name)] == [
        unique_name + "-a"
    ]
    assert lambda_client.get_layer_version_by_arn(Arn=second["LayerVersionArn"])["Version"] == 1
    lambda_client.delete_layer_version(LayerName=unique_name + "-a", VersionNumber=1)
    assert lambda_client.list_layer_versions(LayerName=unique_name + "-a")["LayerVersions"] == []
    bad = None
    try:
        lambda_client.update_function_configuration(FunctionName=unique_name, Layers=[first["LayerVersionArn"]])
    except lambda_client.exceptions.InvalidParameterValueException as error:
        bad = error
    assert bad is not None, "a deleted layer version cannot be added to a function"


SNAP_APP = """
import os, random, time
from snapshot_restore_py import register_before_snapshot, register_after_restore
import email, http.client, decimal, json
STATE = {"init_pid": os.getpid(), "before": 0, "after": 0}
time.sleep(0.5)  # a slow init, paid once at publish

@register_before_snapshot
def before():
    STATE["before"] += 1

@register_after_restore
def after():
    STATE["after"] += 1
    STATE["seed"] = random.random()

def handler(event, context):
    return dict(STATE, init_type=os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"])
"""


def test_snapstart_restores_from_the_published_version(create_function, lambda_client, unique_name):
    created = create_function(
        code={"app.py": SNAP_APP}, SnapStart={"ApplyOn": "PublishedVersions"}, Runtime="python3.12"
    )
    assert created["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    version = lambda_client.publish_version(FunctionName=unique_name)
    assert version["SnapStart"]["OptimizationStatus"] == "On"
    started = time.monotonic()
    response = lambda_client.invoke(FunctionName=unique_name, Qualifier=version["Version"], LogType="Tail")
    first = json.loads(response["Payload"].read())
    assert first["before"] == 1 and first["after"] == 1 and first["init_type"] == "snap-start"
    assert "Restore Duration" in _tail(response) and "Init Duration" not in _tail(response)
    assert time.monotonic() - started < 5
    # Two concurrent invokes need two instances: both restored, each with its own hooks run.
    import concurrent.futures

    def invoke(_):
        client = __import__("boto3").client(
            "lambda",
            endpoint_url=lambda_client.meta.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        return json.loads(
            client.invoke(FunctionName=unique_name, Qualifier=version["Version"], Payload=b'{"slow": 1}')[
                "Payload"
            ].read()
        )

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(invoke, range(3)))
    assert all(r["before"] == 1 and r["after"] == 1 for r in results)
    # $LATEST is not SnapStart: a plain on-demand init.
    latest = json.loads(lambda_client.invoke(FunctionName=unique_name)["Payload"].read())
    assert latest["init_type"] == "on-demand" and latest["before"] == 0


def test_snapstart_needs_a_supported_runtime(create_function, lambda_client, unique_name):
    try:
        create_function(code={"app.py": SNAP_APP}, SnapStart={"ApplyOn": "PublishedVersions"}, Runtime="python3.11")
    except lambda_client.exceptions.InvalidParameterValueException:
        return
    raise AssertionError("python3.11 is not a SnapStart runtime on AWS")


def _lamina_cgroups(server_pid: int) -> list[str]:
    """The cgroup folders a server (by pid) made, in any hierarchy: lamina-<pid> and below."""
    found = []
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        for name in list(dirs):
            if name == f"lamina-{server_pid}":
                found.append(os.path.join(root, name))
                dirs.remove(name)
        if root.count(os.sep) > 8:
            dirs[:] = []
    return found


def test_a_stopped_server_leaves_no_cgroup_behind(lamina_factory):
    """SIGTERM kills the snapshot processes and the instances, then removes their cgroups,
    waiting for the kernel to let go of the killed processes (an immediate rmdir left the
    snapshot's groups behind)."""
    server = lamina_factory()
    client = server.client("lambda")
    client.create_function(
        FunctionName="snap",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": SNAP_APP})},
        SnapStart={"ApplyOn": "PublishedVersions"},
    )
    version = client.publish_version(FunctionName="snap")["Version"]
    assert json.loads(client.invoke(FunctionName="snap", Qualifier=version)["Payload"].read())["after"] == 1
    client.invoke(FunctionName="snap")
    pid = server.process.pid
    if not _lamina_cgroups(pid):
        pytest.skip("this server runs without cgroups (not root, or no writable cgroup hierarchy)")
    server.stop()
    assert _lamina_cgroups(pid) == []
