"""The managed Node.js runtimes as AWS runs them: handler styles (CommonJS, ES modules by
extension or package.json, async, callback), the context, console lines in AWS's text
format, the runtime's error types, layers under /opt/nodejs, the AWS SDK for JavaScript v3
without bundling, the environment, timeouts, and runtimes this host has no node for."""

from __future__ import annotations

import base64
import json
import os
import re
import time

import pytest
from botocore.exceptions import ClientError

from lamina.config import Settings
from lamina.engine.runtimes import NODE_VERSIONS, Runtimes
from lamina.engine.sandbox.nodejs import sdk_installed
from tests.conftest import make_zip

HOST = Runtimes(Settings().interpreters)
PRESENT = [runtime for runtime in NODE_VERSIONS if HOST.find(runtime) is not None]
ABSENT = [runtime for runtime in NODE_VERSIONS if runtime not in PRESENT]
RUNTIME = PRESENT[-1] if PRESENT else None

needs_node = pytest.mark.skipif(RUNTIME is None, reason="no node on this host for any nodejs runtime")
needs_sdk = pytest.mark.skipif(not sdk_installed(), reason="the AWS SDK for JavaScript is not installed (make install)")

ISOLATED = os.geteuid() == 0  # the server (this user) isolates its sandboxes as root
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def node_function(create_function):
    """node_function(code, handler="index.handler", **more): a function on the host's newest
    Node runtime; generous memory and timeout, so that a loaded machine does not time it out."""

    def create(code: dict, handler: str = "index.handler", **more):
        params = {"Runtime": RUNTIME, "MemorySize": 1024, "Timeout": 60, **more}
        return create_function(code=code, handler=handler, **params)

    return create


def _invoke(lambda_client, name, payload=None, **more):
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(), **more)
    return response, json.loads(response["Payload"].read())


def _tail(response) -> str:
    return base64.b64decode(response["LogResult"]).decode()


@needs_node
@pytest.mark.parametrize(
    "code, handler",
    [
        ({"index.js": "exports.handler = async (event) => ({ style: 'cjs', event });"}, "index.handler"),
        ({"index.mjs": "export const handler = async (event) => ({ style: 'mjs', event });"}, "index.handler"),
        (
            {
                "package.json": '{"type": "module"}',
                "src/app.js": "export async function run(event) { return { style: 'type-module', event }; }",
            },
            "src/app.run",
        ),
        (
            {"lib/h.cjs": "module.exports.nested = { go: async (event) => ({ style: 'cjs-ext', event }) };"},
            "lib/h.nested.go",
        ),
        (
            {
                "index.js": """
                exports.handler = (event, context, callback) => {
                  setTimeout(() => callback(null, { style: 'callback', event }), 5);
                };
                """
            },
            "index.handler",
        ),
        (
            {"index.js": "exports.handler = (event, context) => { context.succeed({ style: 'succeed', event }); };"},
            "index.handler",
        ),
    ],
    ids=["commonjs", "mjs", "package-type-module", "cjs-nested", "callback", "context-succeed"],
)
def test_handler_styles(node_function, lambda_client, unique_name, code, handler):
    node_function(code, handler=handler)
    response, body = _invoke(lambda_client, unique_name, {"n": 1})
    assert "FunctionError" not in response, body
    assert body["event"] == {"n": 1} and body["style"]


@needs_node
def test_callback_waits_for_the_event_loop_unless_told_not_to(node_function, lambda_client, unique_name):
    code = {
        "index.js": """
        let log = [];
        exports.handler = (event, context, callback) => {
          log = [];
          context.callbackWaitsForEmptyEventLoop = event.wait;
          setTimeout(() => log.push('timer'), 50);
          callback(null, { seen: log, waits: context.callbackWaitsForEmptyEventLoop });
        };
        """
    }
    node_function(code)
    # The answer is serialized once the loop is empty: after the timer ran.
    _, waited = _invoke(lambda_client, unique_name, {"wait": True})
    assert waited == {"seen": ["timer"], "waits": True}
    _, quick = _invoke(lambda_client, unique_name, {"wait": False})
    assert quick == {"seen": [], "waits": False}
    # A sync handler that never answers answers null once its event loop is empty.
    node_function({"index.js": "exports.handler = () => { setTimeout(() => {}, 10); };"}, name=unique_name + "-null")
    response, body = _invoke(lambda_client, unique_name + "-null")
    assert "FunctionError" not in response and body is None


@needs_node
def test_context_and_environment(node_function, lambda_client, unique_name):
    code = {
        "index.mjs": """
        export const handler = async (event, context) => ({
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn,
          memoryLimitInMB: context.memoryLimitInMB,
          awsRequestId: context.awsRequestId,
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          identity: context.identity ?? null,
          clientContext: context.clientContext ?? null,
          remaining: context.getRemainingTimeInMillis(),
          waits: context.callbackWaitsForEmptyEventLoop,
          version: process.version,
          uid: process.getuid(),
          cwd: process.cwd(),
          env: process.env,
        });
        """
    }
    node_function(code, MemorySize=512)
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response, seen = _invoke(lambda_client, unique_name, ClientContext=client_context)
    assert "FunctionError" not in response, seen
    assert seen["functionName"] == unique_name and seen["functionVersion"] == "$LATEST"
    assert seen["invokedFunctionArn"].endswith(f":function:{unique_name}")
    assert seen["memoryLimitInMB"] == "512"
    assert seen["awsRequestId"] == response["ResponseMetadata"]["RequestId"]
    assert seen["logGroupName"] == f"/aws/lambda/{unique_name}" and seen["logStreamName"]
    assert seen["clientContext"]["custom"] == {"k": "v"} and seen["identity"] is None
    assert 0 < seen["remaining"] <= 60_000 and seen["waits"] is True
    assert seen["version"].startswith(f"v{NODE_VERSIONS[RUNTIME]}.")
    assert seen["uid"] != 0 and seen["cwd"] == "/var/task"
    env = seen["env"]
    major = NODE_VERSIONS[RUNTIME]
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_nodejs{major}.x"
    assert env["NODE_PATH"] == (
        f"/opt/nodejs/node{major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"
    )
    assert env["LAMBDA_TASK_ROOT"] == "/var/task" and env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    assert env["_HANDLER"] == "index.handler" and env["AWS_LAMBDA_RUNTIME_API"]
    assert not [name for name in env if name.startswith("PYTHON") or name.startswith("_LAMINA")]


@needs_node
def test_console_lines_in_aws_text_format(node_function, lambda_client, logs_client, unique_name):
    code = {
        "index.js": """
        console.log('at init');
        exports.handler = async (event, context) => {
          console.log('log', { a: 1 });
          console.info('info %d', 42);
          console.debug('debug');
          console.warn('warn');
          console.error('two\\nlines');
          console.trace('trace');
          process.stdout.write('raw line\\n');
          return context.awsRequestId;
        };
        """
    }
    node_function(code)
    response, request_id = _invoke(lambda_client, unique_name, LogType="Tail")
    tail = _tail(response)
    for level, message in [
        ("INFO", "log { a: 1 }"),
        ("INFO", "info 42"),
        ("DEBUG", "debug"),
        ("WARN", "warn"),
        ("TRACE", "trace"),
    ]:
        assert f"\t{request_id}\t{level}\t{message}\n" in tail, tail
    assert f"\t{request_id}\tERROR\ttwo\nlines" in tail  # one event: \r in the line, \n in the log
    assert "\tundefined\tINFO\tat init\n" in tail and "raw line\n" in tail
    assert re.search(rf"^{ISO}\t{request_id}\tWARN\twarn$", tail, re.MULTILINE)
    # The same lines reach CloudWatch Logs, the multi-line one as a single event.
    group = f"/aws/lambda/{unique_name}"
    messages: list[str] = []
    for _ in range(100):
        events = logs_client.filter_log_events(logGroupName=group)["events"]
        messages = [event["message"] for event in events]
        if any("two\nlines" in m for m in messages):
            break
        time.sleep(0.1)
    assert any(m.endswith(f"\t{request_id}\tERROR\ttwo\nlines") for m in messages)
    assert any(f"\t{request_id}\tINFO\tinfo 42" in m for m in messages)


@needs_node
@pytest.mark.parametrize(
    "code, handler, error_type, message",
    [
        (
            {"index.js": "exports.handler = async () => 1;"},
            "missing.handler",
            "Runtime.ImportModuleError",
            "Error: Cannot find module 'missing'",
        ),
        (
            {"index.mjs": "import x from 'no-such-package';\nexport const handler = async () => x;"},
            "index.handler",
            "Runtime.ImportModuleError",
            "Cannot find package 'no-such-package'",
        ),
        (
            {"index.js": "exports.other = async () => 1;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is undefined or not exported",
        ),
        (
            {"index.js": "exports.handler = 5;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is not a function",
        ),
        ({"index.js": "exports.handler = async () => 1;"}, "index", "Runtime.MalformedHandlerName", "Bad handler"),
        (
            {"index.js": "exports.handler = async () => 1;"},
            "../index.handler",
            "Runtime.MalformedHandlerName",
            "is not a valid handler name",
        ),
        (
            {"index.js": "exports.handler = async () => {"},
            "index.handler",
            "Runtime.UserCodeSyntaxError",
            "SyntaxError: ",
        ),
        ({"index.js": "throw new TypeError('bad config');"}, "index.handler", "TypeError", "bad config"),
    ],
    ids=[
        "no-module",
        "esm-no-package",
        "not-exported",
        "not-a-function",
        "malformed",
        "relative",
        "syntax",
        "init-throws",
    ],
)
def test_init_errors(node_function, lambda_client, unique_name, code, handler, error_type, message):
    node_function(code, handler=handler)
    response, error = _invoke(lambda_client, unique_name, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == error_type and message in error["errorMessage"], error
    assert isinstance(error["trace"], list) and error["trace"]
    tail = _tail(response)
    assert "\tundefined\tERROR\tUncaught Exception \t{" in tail and error_type in tail
    if error_type == "Runtime.ImportModuleError" and "missing" in handler:
        assert error["errorMessage"] == "Error: Cannot find module 'missing'\nRequire stack:\n- /var/runtime/index.mjs"


@needs_node
def test_invoke_errors(node_function, lambda_client, unique_name):
    code = {
        "index.js": """
        exports.thrown = async () => { const e = new RangeError('too far'); e.extra = 7; throw e; };
        exports.callback = (event, context, callback) => callback('plain string');
        exports.sync = () => { throw new Error('sync boom'); };
        exports.rejection = async () => {
          Promise.reject(new Error('nobody listens'));
          await new Promise((resolve) => setTimeout(resolve, 50));
          return 'late';
        };
        exports.ok = async () => 'fine';
        """
    }
    node_function(code, handler="index.thrown")
    response, error = _invoke(lambda_client, unique_name, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "RangeError" and error["errorMessage"] == "too far"
    assert error["trace"][0] == "RangeError: too far" and "/var/task/index.js" in error["trace"][1]
    tail = _tail(response)
    request_id = response["ResponseMetadata"]["RequestId"]
    line = next(line for line in tail.splitlines() if "Invoke Error" in line)
    assert line.split("\t")[1:4] == [request_id, "ERROR", "Invoke Error "]
    logged = json.loads(line.split("\t", 4)[4])
    assert logged["errorType"] == "RangeError" and logged["extra"] == 7 and logged["stack"][0] == "RangeError: too far"
    # The instance survives a handled error.
    lambda_client.update_function_configuration(FunctionName=unique_name, Handler="index.callback")
    _wait_updated(lambda_client, unique_name)
    _, error = _invoke(lambda_client, unique_name)
    assert error == {"errorType": "string", "errorMessage": "plain string", "trace": []}
    lambda_client.update_function_configuration(FunctionName=unique_name, Handler="index.sync")
    _wait_updated(lambda_client, unique_name)
    _, error = _invoke(lambda_client, unique_name)
    assert error["errorType"] == "Error" and error["errorMessage"] == "sync boom"
    lambda_client.update_function_configuration(FunctionName=unique_name, Handler="index.rejection")
    _wait_updated(lambda_client, unique_name)
    response, error = _invoke(lambda_client, unique_name, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert (
        error["errorType"] == "Runtime.UnhandledPromiseRejection" and error["errorMessage"] == "Error: nobody listens"
    )
    assert "ERROR\tUnhandled Promise Rejection \t{" in _tail(response)


def _wait_updated(lambda_client, name):
    for _ in range(200):
        if lambda_client.get_function_configuration(FunctionName=name).get("LastUpdateStatus") in (None, "Successful"):
            return
        time.sleep(0.05)


@needs_node
def test_a_layer_under_opt_nodejs(node_function, lambda_client, unique_name):
    major = NODE_VERSIONS[RUNTIME]
    layer = lambda_client.publish_layer_version(
        LayerName=f"{unique_name}-libs",
        Content={
            "ZipFile": make_zip(
                {
                    "nodejs/node_modules/shared-lib/index.js": "exports.who = 'layer';",
                    f"nodejs/node{major}/node_modules/versioned-lib/index.js": f"exports.major = {major};",
                }
            )
        },
        CompatibleRuntimes=[RUNTIME],
    )
    code = {
        "index.js": """
        const shared = require('shared-lib');
        const versioned = require('versioned-lib');
        exports.handler = async () => ({
          who: shared.who, major: versioned.major, where: require.resolve('shared-lib'),
        });
        """
    }
    node_function(code, Layers=[layer["LayerVersionArn"]])
    response, seen = _invoke(lambda_client, unique_name)
    assert "FunctionError" not in response, seen
    assert seen == {"who": "layer", "major": major, "where": "/opt/nodejs/node_modules/shared-lib/index.js"}


@needs_node
@needs_sdk
def test_the_sdk_v3_calls_lamina_without_bundling(node_function, lambda_client, sqs, queue, unique_name):
    url, _ = queue()
    code = {
        "index.mjs": """
        import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
        import { createRequire } from 'node:module';
        const sqs = new SQSClient({});
        export const handler = async (event) => {
          const sent = await sqs.send(new SendMessageCommand({ QueueUrl: event.url, MessageBody: 'from node' }));
          const require = createRequire(import.meta.url);
          return { id: sent.MessageId, where: require.resolve('@aws-sdk/client-dynamodb') };
        };
        """
    }
    node_function(code)
    response, seen = _invoke(lambda_client, unique_name, {"url": url})
    assert "FunctionError" not in response, seen
    assert seen["where"].startswith("/var/runtime/node_modules/@aws-sdk/client-dynamodb/")
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert messages[0]["Body"] == "from node" and messages[0]["MessageId"] == seen["id"]


@needs_node
def test_timeout(node_function, lambda_client, unique_name):
    code = {"index.js": "exports.handler = async () => { await new Promise(() => setInterval(() => {}, 1000)); };"}
    node_function(code, Timeout=1)
    response, error = _invoke(lambda_client, unique_name)
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout" and "Task timed out after 1" in error["errorMessage"]


@pytest.mark.skipif(not ABSENT, reason="this host has node for every nodejs runtime")
@pytest.mark.parametrize("runtime", ABSENT)
def test_a_runtime_without_node_is_refused(lambda_client, create_function, unique_name, runtime):
    # Refused up front, saying what to install (AWS's InvalidParameterValueException).
    with pytest.raises(ClientError) as refused:
        create_function(code={"index.js": "exports.handler = async () => 1;"}, handler="index.handler", Runtime=runtime)
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert f"needs Node.js {NODE_VERSIONS[runtime]}" in error["Message"] and "lamina runtimes" in error["Message"]


@needs_node
def test_every_cold_start_is_a_fresh_isolated_instance(node_function, lambda_client, unique_name):
    # Cold starts in a row: the first may exec node, the next ones take waiting processes
    # (on isolated hosts): each must see its own code, layers, /tmp size and uid.
    layer = lambda_client.publish_layer_version(
        LayerName=f"{unique_name}-libs",
        Content={"ZipFile": make_zip({"nodejs/node_modules/from-layer/index.js": "exports.ok = true;"})},
    )
    code = {
        "index.js": """
        const fs = require('fs');
        const { execSync } = require('child_process');
        const started = Date.now();
        exports.handler = async (event, context) => {
          let writable = true;
          try { fs.writeFileSync('/var/task/x', 'x'); } catch { writable = false; }
          return {
            layer: require('from-layer').ok, uid: process.getuid(), gid: process.getgid(), writable, started,
            tmp: execSync('df -m /tmp').toString().trim().split('\\n').pop().split(/\\s+/)[1],
            stream: context.logStreamName, pid: process.pid, marker: process.env.MARKER,
          };
        };
        """
    }
    node_function(code, Layers=[layer["LayerVersionArn"]], EphemeralStorage={"Size": 1024})
    streams = set()
    for round_ in range(4):
        lambda_client.update_function_configuration(
            FunctionName=unique_name, Environment={"Variables": {"MARKER": str(round_)}}
        )
        _wait_updated(lambda_client, unique_name)
        response, seen = _invoke(lambda_client, unique_name, LogType="Tail")
        assert "FunctionError" not in response, seen
        assert "Init Duration" in _tail(response)
        assert seen["layer"] is True and seen["marker"] == str(round_)
        if ISOLATED:
            assert seen["uid"] == 65534 and seen["gid"] == 65534
            assert seen["writable"] is False and seen["tmp"] == "1024"
        streams.add(seen["stream"])
    assert len(streams) == 4
