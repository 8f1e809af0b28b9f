"""AddPermission, RemovePermission, GetPolicy: a function's resource-based policy (who may
invoke it: other accounts, AWS services with their source ARN or account, everyone through
a function URL: FunctionUrlAuthType, InvokedViaFunctionUrl), one per function
and one per alias or version (Qualifier), kept in the function's document.

`resource_policy(arn)` is what authorization reads for a call on the function.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ...errors import ServiceError
from ...store.base import Op, Put
from ..context import RequestContext
from .arns import FunctionRef, function_ref, parse_function
from .state import LATEST, LambdaState, new_revision, version_key

MAX_POLICY_BYTES = 20 * 1024  # Lambda's limit on a function's resource-based policy


def sid_exists() -> ServiceError:
    return ServiceError(
        "ResourceConflictException",
        "The statement id (sid) provided already exists. Please specify a different statement id, "
        "or remove the existing statement.",
        409,
    )


def check_size(text: str) -> None:
    """Lambda's limit on a resource-based policy (a function's, a layer version's)."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise ServiceError(
            "PolicyLengthExceededException",
            f"The final policy size ({len(text.encode())}) is bigger than the limit ({MAX_POLICY_BYTES}).",
            400,
        )


def _principal(value: str) -> Any:
    if value == "*":
        return "*"
    if value.isdigit() and len(value) == 12:
        return {"AWS": f"arn:aws:iam::{value}:root"}
    if value.startswith("arn:"):
        return {"AWS": value}
    return {"Service": value}


def _statement(params: dict, resource: str) -> dict:
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": _principal(params["Principal"]),
        "Action": params["Action"],
        "Resource": resource,
    }
    condition: dict[str, dict[str, str]] = {}
    if params.get("InvokedViaFunctionUrl"):
        # What a public or cross-account function URL needs beside lambda:InvokeFunctionUrl
        # (AWS, since October 2025): lambda:InvokeFunction when invoked through the URL.
        condition.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    if params.get("SourceArn"):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = params["SourceArn"]
    for key, name in (
        ("SourceAccount", "AWS:SourceAccount"),
        ("PrincipalOrgID", "aws:PrincipalOrgID"),
        ("EventSourceToken", "lambda:EventSourceToken"),
        ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
    ):
        if params.get(key):
            condition.setdefault("StringEquals", {})[name] = params[key]
    if condition:
        statement["Condition"] = condition
    return statement


def _scope(ref: FunctionRef) -> str:
    return ref.qualifier or ""


class PermissionsApi:
    state: LambdaState
    layer_policy: Callable[[str], Awaitable[str | None]]  # LayerPermissionsApi's

    async def _target(self, params: dict, ctx: RequestContext) -> tuple[FunctionRef, dict, str]:
        """The function, a copy of its document to change, and the ARN its statements name
        (qualified when the policy is an alias's or a version's, which must exist)."""
        ref = function_ref(params, ctx, params.get("Qualifier"))
        await self.state.resolve(ref, ref.qualifier)  # ResourceNotFoundException for an unknown qualifier
        function = dict(await self.state.function(ref))
        resource = ref.arn if not ref.qualifier else f"{ref.arn}:{ref.qualifier}"
        return ref, function, resource

    async def _holder(self, ref: FunctionRef, function: dict) -> tuple[str, str, dict]:
        """The record whose RevisionId the policy of ref's scope carries, and changes: the
        function's ($LATEST), the version's or the alias's."""
        qualifier = ref.qualifier
        if not qualifier or qualifier == LATEST:
            return "function", ref.key, function
        if qualifier.isdigit():
            version = await self.state.find_version(ref, qualifier) or {}
            return "function_version", version_key(ref.key, qualifier), version
        return "function_alias", f"{ref.key}:{qualifier}", await self.state.find_alias(ref, qualifier) or {}

    async def _revised(self, ref: FunctionRef, function: dict) -> list[Op]:
        """The writes of a changed policy: the function's document, and a new RevisionId for
        the record the policy belongs to (a policy change is a change, as on AWS)."""
        kind, key, holder = await self._holder(ref, function)
        if kind == "function":
            function["config"] = dict(function["config"], RevisionId=new_revision())
            return [Put("function", ref.key, function)]
        if kind == "function_alias":
            revised = dict(holder, RevisionId=new_revision())
        else:
            revised = dict(holder, config=dict(holder["config"], RevisionId=new_revision()))
        return [Put("function", ref.key, function), Put(kind, key, revised)]

    async def _revision(self, ref: FunctionRef, function: dict) -> str | None:
        kind, _, holder = await self._holder(ref, function)
        return holder.get("RevisionId") if kind == "function_alias" else (holder.get("config") or {}).get("RevisionId")

    async def add_permission(self, params: dict, ctx: RequestContext) -> dict:
        ref, function, resource = await self._target(params, ctx)
        if params.get("RevisionId") and params["RevisionId"] != await self._revision(ref, function):
            raise ServiceError(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
                412,
            )
        policies = dict(function.get("policies") or {})
        document = json.loads(
            policies.get(_scope(ref)) or '{"Version": "2012-10-17", "Id": "default", "Statement": []}'
        )
        if any(s.get("Sid") == params["StatementId"] for s in document["Statement"]):
            raise sid_exists()
        statement = _statement(params, resource)
        document["Statement"].append(statement)
        text = json.dumps(document, separators=(",", ":"))
        check_size(text)
        policies[_scope(ref)] = text
        function["policies"] = policies
        await self.state.write(await self._revised(ref, function))
        return {"Statement": json.dumps(statement, separators=(",", ":"))}

    async def remove_permission(self, params: dict, ctx: RequestContext) -> dict:
        ref, function, _ = await self._target(params, ctx)
        policies = dict(function.get("policies") or {})
        text = policies.get(_scope(ref))
        document = json.loads(text) if text else {"Statement": []}
        kept = [s for s in document["Statement"] if s.get("Sid") != params["StatementId"]]
        if len(kept) == len(document["Statement"]):
            raise ServiceError(
                "ResourceNotFoundException", f"Statement {params['StatementId']} is not found in resource policy.", 404
            )
        if kept:
            document["Statement"] = kept
            policies[_scope(ref)] = json.dumps(document, separators=(",", ":"))
        else:
            policies.pop(_scope(ref), None)
        function["policies"] = policies
        await self.state.write(await self._revised(ref, function))
        return {"StatusCode": 204}

    async def get_policy(self, params: dict, ctx: RequestContext) -> dict:
        ref, function, _ = await self._target(params, ctx)
        text = (function.get("policies") or {}).get(_scope(ref))
        if not text:
            raise ServiceError("ResourceNotFoundException", "The resource you requested does not exist.", 404)
        return {"Policy": text, "RevisionId": await self._revision(ref, function)}

    async def resource_policy(self, arn: str) -> str | None:
        """The resource-based policy that applies to a call on `arn` (a function, or one of its
        versions or aliases): "" if it has none, None if there is no such function."""
        parts = arn.split(":")
        if len(parts) >= 7 and parts[5] == "layer":
            return await self.layer_policy(arn)
        if len(parts) < 7 or parts[5] != "function":
            return None
        ref = parse_function(arn, parts[4], parts[3])
        function = await self.state.find_function(ref)
        if function is None:
            return None
        return (function.get("policies") or {}).get(_scope(ref)) or ""

    async def resource_tags(self, arn: str) -> dict[str, str]:
        """The function's tags (aws:ResourceTag/...), for it and its versions and aliases."""
        parts = arn.split(":")
        if len(parts) < 7 or parts[5] != "function":
            return {}
        function = await self.state.find_function(parse_function(arn, parts[4], parts[3]))
        return dict(function.get("tags") or {}) if function is not None else {}
