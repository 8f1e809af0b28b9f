"""PublishVersion and ListVersionsByFunction.

A version is a frozen copy of $LATEST's configuration and code. Publishing an unchanged
$LATEST returns the newest version again instead of making a new one, as Lambda does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

from ...errors import invalid_parameter
from ...store.base import Op, Put
from ..context import RequestContext
from .arns import FunctionRef, function_ref
from .paging import page
from .state import (
    LambdaState,
    check_revision,
    new_build,
    new_revision,
    now_iso,
    pending,
    snap_start_applies,
    version_key,
)

_VOLATILE = {
    "LastModified",
    "RevisionId",
    "Version",
    "FunctionArn",
    "LastUpdateStatus",
    "State",
    "Description",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
}


def _fingerprint(doc: dict) -> str:
    stable = {k: v for k, v in doc["config"].items() if k not in _VOLATILE}
    return hashlib.sha256(json.dumps([stable, doc["code"]], sort_keys=True).encode()).hexdigest()


def publish(ref: FunctionRef, function: dict, description: str | None) -> tuple[dict, list[Op]]:
    """The new version's record and the writes that create it (mutates `function`)."""
    number = str(function.get("next_version", 1))
    config = pending(
        dict(
            function["config"],
            Version=number,
            FunctionArn=f"{ref.arn}:{number}",
            RevisionId=new_revision(),
            LastModified=now_iso(),
        )
    )
    if description is not None:
        config["Description"] = description
    if (config.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions":
        config["SnapStart"] = dict(config["SnapStart"], OptimizationStatus="On")
    version_doc = {"config": config, "code": function["code"], "build": function.get("build") or new_build()}
    function["next_version"] = int(number) + 1
    function["last_published"] = {"version": number, "fingerprint": _fingerprint(function)}
    # Publishing changes $LATEST's revision too, as on AWS.
    function["config"] = dict(function["config"], RevisionId=new_revision())
    return version_doc, [
        Put("function_version", version_key(ref.key, number), version_doc),
        Put("function", ref.key, function),
    ]


def prepare_version(state: LambdaState, ref: FunctionRef, version_doc: dict) -> None:
    """A new version is Pending until it is ready, as on AWS (right after its write)."""
    key = version_key(ref.key, version_doc["config"]["Version"])
    state.prepare_soon("function_version", key, version_doc["build"])


async def _snapshot_soon(state: LambdaState, version_doc: dict) -> None:
    """SnapStart: the version's init runs now, in the background, not on first invoke."""
    if snap_start_applies(version_doc["config"]):
        spec = await state.spec(version_doc, version_doc["config"]["Version"])
        asyncio.ensure_future(state.engine.snapshot(spec))


class VersionsApi:
    state: LambdaState

    async def publish_version(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        await self.state.settled("function", ref.key)  # AWS refuses while an update is in progress
        function = dict(await self.state.function(ref))
        check_revision(function["config"], params.get("RevisionId"))
        current = function["config"]["CodeSha256"]
        wanted = params.get("CodeSha256")
        if wanted and wanted != current:
            raise invalid_parameter(
                f"CodeSHA256 ({wanted}) is different from current CodeSHA256 in $LATEST ({current}). Please try again"
            )
        last = function.get("last_published")
        if last and last["fingerprint"] == _fingerprint(function):
            existing = await self.state.find_version(ref, last["version"])
            if existing is not None:
                return existing["config"]
        version_doc, ops = publish(ref, function, params.get("Description"))
        await self.state.write(ops)
        prepare_version(self.state, ref, version_doc)
        await _snapshot_soon(self.state, version_doc)
        return version_doc["config"]

    async def list_versions_by_function(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = await self.state.function(ref)
        everything = [function["config"]] + [v["config"] for v in await self.state.versions(ref)]
        return page(everything, params, "Versions", cap=50)  # at most 50 a page, as on AWS
