"""Code signing configs: Create/Get/Update/Delete/ListCodeSigningConfigs,
Put/Get/DeleteFunctionCodeSigningConfig, ListFunctionsByCodeSigningConfig, and the check
CreateFunction and UpdateFunctionCode make.

    kind "code_signing_config"  key "<account>:<region>:<csc id>"

Lamina has no AWS Signer, so no package it receives carries a signature it could verify:
every deployment to a function with a code signing config fails the checks. As on AWS,
UntrustedArtifactOnDeployment=Enforce refuses it (CodeVerificationFailedException) and
Warn lets it through.
"""

from __future__ import annotations

import random
import string

from ...errors import ServiceError, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import function_ref
from .paging import page
from .state import LambdaState, now_iso

KIND = "code_signing_config"
_ID_CHARS = string.ascii_lowercase + string.digits


def _key(arn: str) -> str:
    # arn:aws:lambda:<region>:<account>:code-signing-config:<id>
    parts = arn.split(":")
    return f"{parts[4]}:{parts[3]}:{parts[6]}" if len(parts) == 7 else arn


def _missing(arn: str) -> ServiceError:
    return not_found(
        f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: {arn}."
    )


async def config_of(state: LambdaState, arn: str) -> dict | None:
    return await state.store.get(KIND, _key(arn))


async def check_deployment(state: LambdaState, csc_arn: str | None, function_name: str) -> None:
    """A package deployed to a function with a code signing config: unsigned, since Lamina has
    no Signer, so refused under Enforce, as AWS refuses a package that fails the checks."""
    if not csc_arn:
        return
    config = await config_of(state, csc_arn)
    if config is None:
        raise ServiceError("CodeSigningConfigNotFoundException", _missing(csc_arn).message, 404)
    if (config["CodeSigningPolicies"] or {}).get("UntrustedArtifactOnDeployment") == "Enforce":
        raise ServiceError(
            "CodeVerificationFailedException",
            "Lambda cannot deploy the function. The function or layer might be signed using a signature that "
            f"the client is not configured to accept. Check the provided signature for {function_name}.",
            400,
        )


class CodeSigningApi:
    state: LambdaState

    async def create_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        csc_id = "csc-" + "".join(random.choices(_ID_CHARS, k=17))
        arn = f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:code-signing-config:{csc_id}"
        config = {
            "CodeSigningConfigId": csc_id,
            "CodeSigningConfigArn": arn,
            "Description": params.get("Description", ""),
            "AllowedPublishers": params["AllowedPublishers"],
            "CodeSigningPolicies": {
                "UntrustedArtifactOnDeployment": (params.get("CodeSigningPolicies") or {}).get(
                    "UntrustedArtifactOnDeployment", "Warn"
                )
            },
            "LastModified": now_iso(),
        }
        await self.state.store.write([Put(KIND, _key(arn), dict(config, tags=params.get("Tags") or {}))])
        return {"CodeSigningConfig": config}

    async def get_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        return {"CodeSigningConfig": _public(await self._config(params["CodeSigningConfigArn"]))}

    async def update_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["CodeSigningConfigArn"]
        config = dict(await self._config(arn))
        for member in ("Description", "AllowedPublishers"):
            if member in params:
                config[member] = params[member]
        if params.get("CodeSigningPolicies"):
            config["CodeSigningPolicies"] = dict(config["CodeSigningPolicies"], **params["CodeSigningPolicies"])
        config["LastModified"] = now_iso()
        await self.state.store.write([Put(KIND, _key(arn), config)])
        return {"CodeSigningConfig": _public(config)}

    async def delete_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["CodeSigningConfigArn"]
        await self._config(arn)
        if await self._users(arn):
            raise ServiceError(
                "ResourceConflictException",
                "The code signing configuration cannot be deleted because it is used by one or more functions.",
                409,
            )
        await self.state.store.write([Delete(KIND, _key(arn))])
        return {}

    async def list_code_signing_configs(self, params: dict, ctx: RequestContext) -> dict:
        configs = await self.state.store.scan(KIND, prefix=f"{ctx.account_id}:{ctx.region}:")
        return page([_public(doc) for _, doc in configs], params, "CodeSigningConfigs")

    async def list_functions_by_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["CodeSigningConfigArn"]
        await self._config(arn)
        return page(await self._users(arn), params, "FunctionArns")

    async def put_function_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = await self.state.function(ref)
        arn = params["CodeSigningConfigArn"]
        if await config_of(self.state, arn) is None:
            raise ServiceError("CodeSigningConfigNotFoundException", _missing(arn).message, 404)
        await self.state.write([Put("function", ref.key, dict(function, code_signing_config=arn))])
        return {"CodeSigningConfigArn": arn, "FunctionName": ref.name}

    async def get_function_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = await self.state.function(ref)
        return {"CodeSigningConfigArn": function.get("code_signing_config") or "", "FunctionName": ref.name}

    async def delete_function_code_signing_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = dict(await self.state.function(ref))
        function.pop("code_signing_config", None)
        await self.state.write([Put("function", ref.key, function)])
        return {}

    async def _config(self, arn: str) -> dict:
        config = await config_of(self.state, arn)
        if config is None:
            raise _missing(arn)
        return config

    async def _users(self, arn: str) -> list[str]:
        account, region = arn.split(":")[4], arn.split(":")[3]
        functions = await self.state.store.scan("function", prefix=f"{account}:{region}:")
        return [doc["config"]["FunctionArn"] for _, doc in functions if doc.get("code_signing_config") == arn]


def _public(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "tags"}
