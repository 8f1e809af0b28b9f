"""Deploying a function from a folder: zip it, then create the function or update it.

Used by `lamina deploy-function` and by `lamina up` for the example apps.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.client import BaseClient

# The role a function deployed without one gets, as SAM makes one: it trusts Lambda and has
# AWSLambdaBasicExecutionRole (its logs, nothing else); made in the caller's account once.
BASIC_ROLE = "lamina-basic-execution"
BASIC_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def basic_execution_role(iam: BaseClient) -> str:
    """The ARN of the basic execution role, created (with its policy) if it is not there."""
    try:
        return iam.get_role(RoleName=BASIC_ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        pass
    try:
        arn = iam.create_role(RoleName=BASIC_ROLE, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:  # made meanwhile by another deploy
        return iam.get_role(RoleName=BASIC_ROLE)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=BASIC_ROLE, PolicyArn=BASIC_POLICY)
    return arn


def zip_directory(path: str) -> bytes:
    """The folder as a Lambda deployment package (paths relative to it, modes kept)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git"))
            for name in sorted(files):
                full = os.path.join(folder, name)
                archive.write(full, os.path.relpath(full, path))
    return buffer.getvalue()


def code_sha256(code: bytes) -> str:
    """A package's CodeSha256 as Lambda reports it (base64 of the SHA-256 digest)."""
    return base64.b64encode(hashlib.sha256(code).digest()).decode("ascii")


def _changed(config: dict, code: bytes, settings: dict) -> bool:
    """Whether the deployed function differs from the package and the settings asked for
    (settings left unset are not compared: deploying would not change them either)."""
    if config.get("CodeSha256") != code_sha256(code):
        return True
    for key, wanted in settings.items():
        current = config.get(key)
        if key == "Environment":
            current = {"Variables": (current or {}).get("Variables") or {}}
        if current != wanted:
            return True
    return False


def deploy_function(
    client: BaseClient,
    directory: str,
    name: str,
    handler: str,
    runtime: str = "python3.12",
    memory: int | None = None,
    timeout: int | None = None,
    env: dict | None = None,
    description: str | None = None,
    only_if_changed: bool = False,
    role: str | None = None,
    iam: BaseClient | None = None,
) -> tuple[str, dict]:
    """Create the function from the folder, or update its code and configuration; with
    `only_if_changed`, leave it ("unchanged") when its code and those settings already match.
    A new function without `role` gets the basic execution role (made with `iam`)."""
    code = zip_directory(directory)
    settings = {"Handler": handler, "Runtime": runtime}
    if memory:
        settings["MemorySize"] = memory
    if timeout:
        settings["Timeout"] = timeout
    if env is not None:
        settings["Environment"] = {"Variables": env}
    if description is not None:
        settings["Description"] = description
    try:
        existing = client.get_function(FunctionName=name)["Configuration"]
    except client.exceptions.ResourceNotFoundException:
        if role is None:
            assert iam is not None, "a new function needs a role, or an IAM client to make the basic one"
            role = basic_execution_role(iam)
        config = client.create_function(FunctionName=name, Role=role, Code={"ZipFile": code}, **settings)
        return "created", config
    if only_if_changed and not _changed(existing, code, settings):
        return "unchanged", existing
    client.update_function_code(FunctionName=name, ZipFile=code)
    config = client.update_function_configuration(FunctionName=name, **settings)
    return "updated", config
