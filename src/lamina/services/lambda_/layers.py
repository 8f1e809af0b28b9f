"""Layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions,
DeleteLayerVersion, and resolving a function's Layers to their code.

    kind "layer_version"  key "<account>:<region>:<layer name>:<version, 10 digits>"

A function's layers (up to 5, in order) are merged into one directory, later layers over
earlier ones, mounted at /opt in the sandbox, with /opt/python on sys.path, as on AWS.
A deleted layer version stays usable by the functions that already reference it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ...errors import ServiceError, invalid_parameter, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .paging import page
from .state import LambdaState

LAYER_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:(?P<name>[a-zA-Z0-9-_]+)"
    r"(?::(?P<version>\d+))?$"
)


def layer_arn(region: str, account: str, name: str, version: int | str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:layer:{name}"
    return f"{arn}:{version}" if version is not None else arn


def layer_key(account: str, region: str, name: str, version: int | str | None = None) -> str:
    key = f"{account}:{region}:{name}:"
    return key + f"{int(version):010d}" if version is not None else key


def layer_name(value: str, ctx: RequestContext) -> tuple[str, str, str]:
    """(account, region, name) from a layer name or a layer ARN."""
    match = LAYER_ARN.match(value)
    if match:
        return match.group("account"), match.group("region"), match.group("name")
    return ctx.account_id, ctx.region, value


def _created() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _public(doc: dict, ctx: RequestContext) -> dict:
    content = dict(doc["Content"], Location=f"{ctx.endpoint_url}/_lamina/code/{doc['code_sha']}.zip")
    return dict({k: v for k, v in doc.items() if k != "code_sha"}, Content=content)


def _list_item(doc: dict) -> dict:
    return {
        k: doc[k]
        for k in (
            "LayerVersionArn",
            "Version",
            "Description",
            "CreatedDate",
            "CompatibleArchitectures",
            "CompatibleRuntimes",
            "LicenseInfo",
        )
        if k in doc
    }


def _matches(doc: dict, runtime: str | None, architecture: str | None) -> bool:
    if runtime and runtime not in (doc.get("CompatibleRuntimes") or []):
        return False
    if architecture and architecture not in (doc.get("CompatibleArchitectures") or []):
        return False
    return True


async def _version(state: LambdaState, account: str, region: str, name: str, version: int | str) -> dict:
    doc = await state.store.get("layer_version", layer_key(account, region, name, version))
    if doc is None:
        raise not_found("The resource you requested does not exist.")
    return doc


async def resolve_layers(state: LambdaState, arns: list[str] | None, ctx: RequestContext) -> list[dict] | None:
    """A function's Layers parameter -> [{Arn, CodeSize}] plus the code shas, checked: each
    version exists, and another account's is one its policy lets the caller get."""
    if arns is None:
        return None
    if len(arns) > 5:
        raise invalid_parameter("Cannot reference more than 5 layers.")
    layers = []
    for arn in arns:
        match = LAYER_ARN.match(arn)
        if not match or not match.group("version"):
            raise invalid_parameter(f"Layer version {arn} does not exist.")
        doc = await state.store.get(
            "layer_version",
            layer_key(match.group("account"), match.group("region"), match.group("name"), match.group("version")),
        )
        if doc is None:
            raise invalid_parameter(f"Layer version {arn} does not exist.")
        if match.group("account") != ctx.account_id and state.may is not None:
            denied = await state.may(ctx, "lambda:GetLayerVersion", arn)
            if denied is not None:
                raise ServiceError("AccessDeniedException", denied, 403)
        layers.append({"Arn": arn, "CodeSize": doc["Content"]["CodeSize"], "code_sha": doc["code_sha"]})
    return layers


class LayersApi:
    state: LambdaState

    async def publish_layer_version(self, params: dict, ctx: RequestContext) -> dict:
        account, region, name = layer_name(params["LayerName"], ctx)
        content = params.get("Content") or {}
        if content.get("ZipFile") is None and not content.get("S3Bucket"):
            raise invalid_parameter("Please provide a source for layer content.")
        code = await self.state.code.package(ctx, content)
        existing = await self.state.store.scan("layer_version", prefix=layer_key(account, region, name))
        counter = await self.state.store.get("layer", f"{account}:{region}:{name}") or {"next_version": 1}
        version = max([counter["next_version"]] + [doc["Version"] + 1 for _, doc in existing])
        doc = {
            "LayerArn": layer_arn(region, account, name),
            "LayerVersionArn": layer_arn(region, account, name, version),
            "Version": version,
            "Description": params.get("Description", ""),
            "CreatedDate": _created(),
            "Content": {"CodeSha256": code.sha256_b64, "CodeSize": code.size},
            "code_sha": code.sha256_hex,
        }
        for member in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if params.get(member):
                doc[member] = params[member]
        await self.state.store.write(
            [
                Put("layer_version", layer_key(account, region, name, version), doc),
                # Version numbers are never reused, even after DeleteLayerVersion.
                Put("layer", f"{account}:{region}:{name}", {"next_version": version + 1}),
            ]
        )
        return _public(doc, ctx)

    async def get_layer_version(self, params: dict, ctx: RequestContext) -> dict:
        account, region, name = layer_name(params["LayerName"], ctx)
        return _public(await _version(self.state, account, region, name, params["VersionNumber"]), ctx)

    async def get_layer_version_by_arn(self, params: dict, ctx: RequestContext) -> dict:
        match = LAYER_ARN.match(params["Arn"])
        if not match or not match.group("version"):
            raise invalid_parameter(f"Invalid layer version ARN: {params['Arn']}")
        doc = await _version(
            self.state, match.group("account"), match.group("region"), match.group("name"), match.group("version")
        )
        return _public(doc, ctx)

    async def list_layers(self, params: dict, ctx: RequestContext) -> dict:
        rows = await self.state.store.scan("layer_version", prefix=f"{ctx.account_id}:{ctx.region}:")
        latest: dict[str, dict] = {}
        for _, doc in rows:
            if _matches(doc, params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")):
                name = doc["LayerArn"].rsplit(":", 1)[1]
                latest[name] = doc  # keys sort by version, so the last one wins
        items = [
            {"LayerName": name, "LayerArn": doc["LayerArn"], "LatestMatchingVersion": _list_item(doc)}
            for name, doc in sorted(latest.items())
        ]
        return page(items, params, "Layers")

    async def list_layer_versions(self, params: dict, ctx: RequestContext) -> dict:
        account, region, name = layer_name(params["LayerName"], ctx)
        rows = await self.state.store.scan("layer_version", prefix=layer_key(account, region, name))
        items = [
            _list_item(doc)
            for _, doc in reversed(rows)
            if _matches(doc, params.get("CompatibleRuntime"), params.get("CompatibleArchitecture"))
        ]
        return page(items, params, "LayerVersions")

    async def delete_layer_version(self, params: dict, ctx: RequestContext) -> dict:
        account, region, name = layer_name(params["LayerName"], ctx)
        # Deleting a version that does not exist succeeds, as on AWS.
        await self.state.store.write(
            [Delete("layer_version", layer_key(account, region, name, params["VersionNumber"]))]
        )
        return {}
