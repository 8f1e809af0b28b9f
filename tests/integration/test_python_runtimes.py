"""The Python runtimes as AWS runs them: each python3.x on an interpreter of its own version,
a function seeing only the standard library, its code and layers and the SDK the runtime
bundles (never Lamina's own packages or paths), and AWS_LAMBDA_EXEC_WRAPPER."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lamina.config import Settings
from lamina.engine.runtimes import PYTHON_VERSIONS, Runtimes
from tests.conftest import make_zip

HOST = Runtimes(Settings().interpreters)


def _invoke(lambda_client, name, payload=None):
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    return response, json.loads(response["Payload"].read())


@pytest.mark.parametrize("runtime", list(PYTHON_VERSIONS))
def test_each_python_runtime_runs_on_an_interpreter_of_its_version(
    lambda_client, create_function, unique_name, runtime
):
    version = PYTHON_VERSIONS[runtime]
    if HOST.find(runtime) is None:
        # A runtime this host cannot run is refused up front, saying what to install.
        with pytest.raises(ClientError) as refused:
            create_function(Runtime=runtime)
        error = refused.value.response["Error"]
        assert error["Code"] == "InvalidParameterValueException"
        assert f"needs Python {version[0]}.{version[1]}" in error["Message"] and "lamina runtimes" in error["Message"]
        return
    layer = lambda_client.publish_layer_version(
        LayerName=f"{unique_name}-libs",
        Content={"ZipFile": make_zip({f"python/lib/{runtime}/site-packages/versioned.py": f"WHERE = {runtime!r}\n"})},
        CompatibleRuntimes=[runtime],
    )
    code = """
    import sys, boto3, versioned

    def handler(event, context):
        return {
            "version": list(sys.version_info[:2]),
            "cache_tag": sys.implementation.cache_tag,
            "boto3": boto3.__version__,
            "layer": versioned.WHERE,
        }
    """
    create_function(code={"app.py": code}, Runtime=runtime, Layers=[layer["LayerVersionArn"]])
    response, seen = _invoke(lambda_client, unique_name)
    assert "FunctionError" not in response, seen
    assert seen["version"] == list(version)
    assert seen["cache_tag"] == f"cpython-{version[0]}{version[1]}"
    assert seen["boto3"] and seen["layer"] == runtime


def test_a_function_imports_only_what_the_runtime_and_its_package_ship(lambda_client, create_function, unique_name):
    lamina_only = ["yaml", "pydantic", "pytest", "httpx", "aws_lambda_powertools", "cbor2", "uvicorn", "lamina"]
    bundled = ["boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six", "snapshot_restore_py"]
    # Imported at init (full speed), not in the handler (a 128 MB instance's CPU share).
    code = f"""
    import importlib

    FOUND = {{}}
    for name in {lamina_only + bundled!r}:
        try:
            importlib.import_module(name)
            FOUND[name] = True
        except ImportError:
            FOUND[name] = False

    def handler(event, context):
        return FOUND
    """
    create_function(code={"app.py": code})
    _, found = _invoke(lambda_client, unique_name)
    assert {name: found[name] for name in lamina_only} == dict.fromkeys(lamina_only, False)
    assert {name: found[name] for name in bundled} == dict.fromkeys(bundled, True)


def test_a_function_that_ships_its_own_boto3_gets_its_own(lambda_client, create_function, unique_name):
    code = {
        "app.py": """
        import boto3, botocore

        def handler(event, context):
            return {"boto3": boto3.__version__, "botocore_from_runtime": bool(botocore.__version__)}
        """,
        "boto3/__init__.py": "__version__ = '0.0.shipped'\n",
    }
    create_function(code=code)
    _, seen = _invoke(lambda_client, unique_name)
    assert seen == {"boto3": "0.0.shipped", "botocore_from_runtime": True}


def _no_platform_paths(text: str) -> None:
    for fragment in ("lamina/engine", "/src/lamina", ".venv", "site-packages/lamina", "_lamina"):
        assert fragment not in text, f"{fragment!r} in {text}"


def test_tracebacks_name_the_functions_files_only(lambda_client, create_function, unique_name, logs_client):
    create_function(
        code={
            "app.py": "import helper\n\ndef handler(event, context):\n    return helper.go()\n",
            "helper.py": "def go():\n    raise ValueError('deep')\n",
        }
    )
    response, error = _invoke(lambda_client, unique_name)
    assert response["FunctionError"] == "Unhandled" and error["errorType"] == "ValueError"
    stack = "".join(error["stackTrace"])
    assert '/app.py", line 4, in handler' in stack and '/helper.py", line 2, in go' in stack
    _no_platform_paths(json.dumps(error))

    broken = f"{unique_name}-init"
    create_function(name=broken, code={"app.py": "raise RuntimeError('at import')\n\ndef handler(e, c):\n    pass\n"})
    response, error = _invoke(lambda_client, broken)
    assert error["errorType"] == "RuntimeError" and error["errorMessage"] == "at import"
    assert any('/app.py", line 1, in <module>' in frame for frame in error["stackTrace"])
    _no_platform_paths(json.dumps(error))


def test_the_runtimes_packages_are_where_aws_has_them(lambda_client, create_function, unique_name):
    code = """
    import os, sys, boto3

    def handler(event, context):
        return {"boto3": boto3.__file__, "runtime_dir": os.environ["LAMBDA_RUNTIME_DIR"], "path": sys.path}
    """
    create_function(code={"app.py": code})
    _, seen = _invoke(lambda_client, unique_name)
    assert seen["boto3"].startswith(seen["runtime_dir"] + "/boto3/")
    # The code first (/var/task in a sandbox), then the layers, as AWS orders them.
    assert seen["path"][1:3] == ["/opt/python/lib/python3.12/site-packages", "/opt/python"]
    _no_platform_paths(json.dumps(seen["path"]))


def test_the_runtime_starts_through_an_exec_wrapper(lambda_client, create_function, unique_name):
    # As in AWS's documentation: the wrapper gets the runtime's command line, may change the
    # environment, and inserts interpreter options before the last argument.
    wrapper = """#!/bin/bash
    export WRAPPED_BY=layer-wrapper
    args=("$@")
    exec "${args[@]:0:$#-1}" -X utf8 "${args[@]: -1}"
    """
    code = """
    import os, sys

    def handler(event, context):
        return {"wrapped": os.environ.get("WRAPPED_BY"), "utf8": sys.flags.utf8_mode, "id": context.aws_request_id}
    """
    create_function(
        code={"app.py": code, "wrapper.sh": wrapper},
        Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"}},
    )
    response, seen = _invoke(lambda_client, unique_name)
    assert "FunctionError" not in response, seen
    assert seen["wrapped"] == "layer-wrapper" and seen["utf8"] == 1
    assert seen["id"] == response["ResponseMetadata"]["RequestId"]
