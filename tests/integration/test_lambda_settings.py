"""Lambda's remaining settings against a live server: code signing configs (an unsigned
package refused under Enforce, accepted under Warn), the recursion config and the runtime
management config, with AWS's shapes and errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import error_of

PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/shop/abcdef1234"
CODE = make_zip({"app.py": "def handler(event, context):\n    return event\n"})


def _config(lambda_client, policy: str) -> str:
    response = lambda_client.create_code_signing_config(
        Description="shop",
        AllowedPublishers={"SigningProfileVersionArns": [PROFILE]},
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": policy},
    )
    config = response["CodeSigningConfig"]
    assert config["CodeSigningConfigId"].startswith("csc-") and len(config["CodeSigningConfigId"]) == 21
    assert config["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": policy}
    return config["CodeSigningConfigArn"]


def test_code_signing_configs(lambda_client, create_function, unique_name):
    enforce, warn = _config(lambda_client, "Enforce"), _config(lambda_client, "Warn")
    assert lambda_client.get_code_signing_config(CodeSigningConfigArn=enforce)["CodeSigningConfig"]["Description"] == (
        "shop"
    )
    listed = [c["CodeSigningConfigArn"] for c in lambda_client.list_code_signing_configs()["CodeSigningConfigs"]]
    assert {enforce, warn} <= set(listed)

    # Lamina has no Signer: a package it receives is unsigned, and Enforce refuses it.
    with pytest.raises(ClientError) as caught:
        lambda_client.create_function(
            FunctionName=unique_name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": CODE},
            CodeSigningConfigArn=enforce,
        )
    assert error_of(caught) == (
        "CodeVerificationFailedException",
        400,
        "Lambda cannot deploy the function. The function or layer might be signed using a signature that the "
        f"client is not configured to accept. Check the provided signature for {unique_name}.",
    )
    create_function(name=unique_name, CodeSigningConfigArn=warn)
    assert lambda_client.get_function_code_signing_config(FunctionName=unique_name)["CodeSigningConfigArn"] == warn
    assert lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=warn)["FunctionArns"] == [
        lambda_client.get_function_configuration(FunctionName=unique_name)["FunctionArn"]
    ]
    lambda_client.put_function_code_signing_config(FunctionName=unique_name, CodeSigningConfigArn=enforce)
    with pytest.raises(ClientError) as caught:
        lambda_client.update_function_code(FunctionName=unique_name, ZipFile=CODE)
    assert error_of(caught)[0] == "CodeVerificationFailedException"
    with pytest.raises(ClientError) as caught:
        lambda_client.delete_code_signing_config(CodeSigningConfigArn=enforce)
    assert error_of(caught)[:2] == ("ResourceConflictException", 409)

    lambda_client.update_code_signing_config(
        CodeSigningConfigArn=enforce, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"}
    )
    lambda_client.update_function_code(FunctionName=unique_name, ZipFile=CODE)
    lambda_client.delete_function_code_signing_config(FunctionName=unique_name)
    assert lambda_client.get_function_code_signing_config(FunctionName=unique_name)["CodeSigningConfigArn"] == ""
    lambda_client.delete_code_signing_config(CodeSigningConfigArn=enforce)
    with pytest.raises(ClientError) as caught:
        lambda_client.get_code_signing_config(CodeSigningConfigArn=enforce)
    assert error_of(caught)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as caught:
        lambda_client.put_function_code_signing_config(FunctionName=unique_name, CodeSigningConfigArn=enforce)
    assert error_of(caught)[:2] == ("CodeSigningConfigNotFoundException", 404)


def test_recursion_and_runtime_management(lambda_client, create_function, unique_name):
    create_function(Publish=True)
    assert lambda_client.get_function_recursion_config(FunctionName=unique_name)["RecursiveLoop"] == "Terminate"
    assert (
        lambda_client.put_function_recursion_config(FunctionName=unique_name, RecursiveLoop="Allow")["RecursiveLoop"]
        == "Allow"
    )
    assert lambda_client.get_function_recursion_config(FunctionName=unique_name)["RecursiveLoop"] == "Allow"

    config = lambda_client.get_runtime_management_config(FunctionName=unique_name)
    assert config["UpdateRuntimeOn"] == "Auto" and "RuntimeVersionArn" not in config
    with pytest.raises(ClientError) as caught:
        lambda_client.put_runtime_management_config(FunctionName=unique_name, UpdateRuntimeOn="Manual")
    assert error_of(caught)[:2] == ("InvalidParameterValueException", 400)
    version_arn = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef"
    answer = lambda_client.put_runtime_management_config(
        FunctionName=unique_name, Qualifier="1", UpdateRuntimeOn="Manual", RuntimeVersionArn=version_arn
    )
    assert answer["FunctionArn"].endswith(f":function:{unique_name}:1")
    got = lambda_client.get_runtime_management_config(FunctionName=unique_name, Qualifier="1")
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"]) == ("Manual", version_arn)
    assert lambda_client.get_runtime_management_config(FunctionName=unique_name)["UpdateRuntimeOn"] == "Auto"
