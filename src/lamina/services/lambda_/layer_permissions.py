"""AddLayerVersionPermission, RemoveLayerVersionPermission, GetLayerVersionPolicy: who else
may use a layer version (other accounts, everyone, an organization), kept in the layer
version's document with a RevisionId that changes with it.

A function in another account may list a layer version in its Layers only where this
policy grants that account lambda:GetLayerVersion (layers.resolve_layers asks).
"""

from __future__ import annotations

import json
from typing import Any

from ... import ids
from ...errors import ServiceError, invalid_parameter, not_found
from ...store.base import Put
from ..context import RequestContext
from .layers import LAYER_ARN, layer_arn, layer_key, layer_name
from .permissions import check_size, sid_exists
from .state import LambdaState

ACTIONS = ("lambda:GetLayerVersion", "lambda:ListLayerVersions")


def _changed_since(doc: dict, params: dict) -> None:
    if params.get("RevisionId") and params["RevisionId"] != doc.get("revision_id"):
        raise ServiceError(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetLayerVersionPolicy API to retrieve the latest Revision Id",
            412,
        )


def _statement(params: dict, resource: str) -> dict:
    principal = params["Principal"]
    if principal != "*" and not (principal.isdigit() and len(principal) == 12):
        raise invalid_parameter(
            f"1 validation error detected: Value '{principal}' at 'principal' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root"
        )
    if params["Action"] not in ACTIONS:
        raise invalid_parameter(
            f"1 validation error detected: Value '{params['Action']}' at 'action' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: lambda:GetLayerVersion"
        )
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
        "Action": params["Action"],
        "Resource": resource,
    }
    if params.get("OrganizationId"):
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": params["OrganizationId"]}}
    return statement


class LayerPermissionsApi:
    state: LambdaState

    async def _layer_version(self, params: dict, ctx: RequestContext) -> tuple[str, dict]:
        account, region, name = layer_name(params["LayerName"], ctx)
        key = layer_key(account, region, name, params["VersionNumber"])
        doc = await self.state.store.get("layer_version", key)
        if doc is None:
            raise not_found(
                f"Layer version {layer_arn(region, account, name, params['VersionNumber'])} does not exist."
            )
        return key, dict(doc)

    async def add_layer_version_permission(self, params: dict, ctx: RequestContext) -> dict:
        key, doc = await self._layer_version(params, ctx)
        _changed_since(doc, params)
        document = json.loads(doc.get("policy") or '{"Version": "2012-10-17", "Id": "default", "Statement": []}')
        if any(statement.get("Sid") == params["StatementId"] for statement in document["Statement"]):
            raise sid_exists()
        statement = _statement(params, doc["LayerVersionArn"])
        document["Statement"].append(statement)
        text = json.dumps(document, separators=(",", ":"))
        check_size(text)
        doc.update(policy=text, revision_id=ids.uuid4())
        await self.state.store.write([Put("layer_version", key, doc)])
        return {"Statement": json.dumps(statement, separators=(",", ":")), "RevisionId": doc["revision_id"]}

    async def remove_layer_version_permission(self, params: dict, ctx: RequestContext) -> dict:
        key, doc = await self._layer_version(params, ctx)
        _changed_since(doc, params)
        document = json.loads(doc.get("policy") or '{"Statement": []}')
        kept = [s for s in document["Statement"] if s.get("Sid") != params["StatementId"]]
        if len(kept) == len(document["Statement"]):
            raise not_found(f"Statement {params['StatementId']} is not found in resource policy.")
        document["Statement"] = kept
        doc.update(policy=json.dumps(document, separators=(",", ":")) if kept else None, revision_id=ids.uuid4())
        await self.state.store.write([Put("layer_version", key, doc)])
        return {"StatusCode": 204}

    async def get_layer_version_policy(self, params: dict, ctx: RequestContext) -> dict:
        _, doc = await self._layer_version(params, ctx)
        if not doc.get("policy"):
            raise not_found("No policy is associated with the given resource.")
        return {"Policy": doc["policy"], "RevisionId": doc["revision_id"]}

    async def layer_policy(self, arn: str) -> str | None:
        """A layer version's policy ("" if it has none), or None if there is no such version."""
        match = LAYER_ARN.match(arn)
        if not match or not match.group("version"):
            return None
        doc = await self.state.store.get(
            "layer_version",
            layer_key(match.group("account"), match.group("region"), match.group("name"), match.group("version")),
        )
        return None if doc is None else doc.get("policy") or ""
