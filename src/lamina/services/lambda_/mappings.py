"""Event source mappings: Create/Get/Update/Delete/ListEventSourceMappings (pollers.py
runs them).

    kind "event_source_mapping"  key "<UUID>"
"""

from __future__ import annotations

import time

from ... import ids
from ...engine.pollers import checkpoints
from ...engine.pollers.queue import QueueSource
from ...engine.pollers.stream import StreamSource
from ...errors import ServiceError, conflict, invalid_parameter, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import FunctionRef, function_arn, parse_function
from .paging import page
from .pollers import Pollers, access_problem, record_filter, source_actions, start_poller, stop_poller
from .state import LambdaState

# Members only a stream mapping takes, with their defaults (as GetEventSourceMapping shows them).
STREAM_DEFAULTS = {
    "ParallelizationFactor": 1,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "TumblingWindowInSeconds": 0,
}
STREAM_ONLY = (*STREAM_DEFAULTS, "StartingPosition", "StartingPositionTimestamp", "DestinationConfig")


async def _mapping(state: LambdaState, mapping_id: str) -> dict:
    mapping = await state.store.get("event_source_mapping", mapping_id)
    if mapping is None:
        raise not_found("The resource you requested does not exist.")
    return mapping


NO_RECORDS = "No records processed"


def _public(pollers: Pollers, mapping: dict) -> dict:
    """The mapping as the API shows it, in AWS's words: a stream's says "User action" and
    its LastProcessingResult from the start ("No records processed"); a queue's says
    "USER_INITIATED" and has no LastProcessingResult before a batch has been processed."""
    stream = "StartingPosition" in mapping
    mapping = dict(mapping, StateTransitionReason="User action" if stream else "USER_INITIATED")
    poller = pollers.running.get(mapping["UUID"])
    result = poller.last_result if poller is not None else mapping.get("LastProcessingResult")
    mapping.pop("LastProcessingResult", None)
    if stream:
        mapping["LastProcessingResult"] = result or NO_RECORDS
    elif result and result != NO_RECORDS:
        mapping["LastProcessingResult"] = result
    return mapping


def _no_function() -> ServiceError:
    """AWS's answer to a mapping for a function that does not exist (or has no such alias or version)."""
    return invalid_parameter("Function does not exist")


def _check(mapping: dict, source: QueueSource | StreamSource) -> None:
    batch, window = mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]
    if isinstance(source, StreamSource):
        _check_stream(mapping)
    else:
        if source.fifo and batch > 10:
            raise invalid_parameter("BatchSize must be less than or equal to 10 for FIFO queues.")
        if batch > 10 and window < 1:
            raise invalid_parameter(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
            )
    record_filter(mapping.get("FilterCriteria"))  # raises if a pattern is malformed
    unknown = set(mapping["FunctionResponseTypes"]) - {"ReportBatchItemFailures"}
    if unknown:
        raise invalid_parameter(f"Unsupported FunctionResponseTypes: {sorted(unknown)}")


def _check_stream(mapping: dict) -> None:
    def within(member: str, low: int, high: int, also: tuple = ()) -> None:
        value = mapping.get(member)
        if value is not None and not (low <= value <= high or value in also):
            raise invalid_parameter(
                f"1 validation error detected: Value '{value}' at '{member[0].lower() + member[1:]}'"
                f" failed to satisfy constraint: Member must have value between {low} and {high}"
            )

    within("BatchSize", 1, 10000)
    within("MaximumBatchingWindowInSeconds", 0, 300)
    within("ParallelizationFactor", 1, 10)
    within("MaximumRetryAttempts", -1, 10000)
    within("MaximumRecordAgeInSeconds", 60, 604800, also=(-1,))
    within("TumblingWindowInSeconds", 0, 900)
    if mapping["StartingPosition"] not in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
        raise invalid_parameter(f"Unsupported starting position: {mapping['StartingPosition']}")
    if mapping["StartingPosition"] == "AT_TIMESTAMP" and mapping.get("StartingPositionTimestamp") is None:
        raise invalid_parameter("StartingPositionTimestamp must be provided when StartingPosition is AT_TIMESTAMP.")
    destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if destination and not (destination.startswith("arn:aws:sqs:") or destination.startswith("arn:aws:sns:")):
        raise invalid_parameter(
            "The provided destination config DestinationConfig(onSuccess=null, onFailure="
            f"OnFailure(destination={destination})) is invalid. Destination must be an SQS queue "
            "or an SNS topic."
        )


async def _check_role(state: LambdaState, ref: FunctionRef, source_arn: str) -> None:
    """The function's execution role must be able to read the source, as Lambda checks when
    a mapping is created (with AWS's messages)."""
    if state.role_denies is None:
        return
    _, record = await state.resolve(ref, ref.qualifier)
    role = record["config"].get("Role") or ""
    denied = await state.role_denies(role, source_actions(source_arn), source_arn)
    if denied is not None:
        raise invalid_parameter(access_problem(source_arn, denied))


class MappingsApi:
    state: LambdaState
    pollers: Pollers

    async def create_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        source_arn = params.get("EventSourceArn")
        if not source_arn:
            raise invalid_parameter("Unrecognized event source, must be kinesis, dynamodb stream or sqs.")
        ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region)
        try:
            await self.state.record(ref)
        except ServiceError:
            raise _no_function() from None
        source = self.pollers.sources(source_arn)
        if source is None:
            if source_arn.startswith("arn:aws:kinesis:"):
                raise invalid_parameter(f"Stream not found: {source_arn}")
            raise invalid_parameter(
                f"Error occurred while ReceiveMessage. SQS Error Code: "
                f"AWS.SimpleQueueService.NonExistentQueue. The queue {source_arn} does not exist."
            )
        stream = isinstance(source, StreamSource)
        target = function_arn(ref.region, ref.account, ref.name, ref.qualifier)
        mapping = {
            "UUID": ids.uuid4(),
            "EventSourceArn": source_arn,
            "FunctionArn": target,
            "BatchSize": params.get("BatchSize", 100 if stream else 10),
            "MaximumBatchingWindowInSeconds": params.get("MaximumBatchingWindowInSeconds", 0),
            "FunctionResponseTypes": params.get("FunctionResponseTypes") or [],
            "LastModified": time.time(),
            "State": "Enabled" if params.get("Enabled", True) else "Disabled",
        }
        mapping["EventSourceMappingArn"] = (
            f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:event-source-mapping:{mapping['UUID']}"
        )
        for member in ("FilterCriteria", "ScalingConfig"):
            if params.get(member):
                mapping[member] = params[member]
        if stream:
            if not params.get("StartingPosition"):
                raise invalid_parameter(
                    "1 validation error detected: Value null at 'startingPosition' failed to "
                    "satisfy constraint: Member must not be null"
                )
            mapping.update({member: params.get(member, default) for member, default in STREAM_DEFAULTS.items()})
            mapping["StartingPosition"] = params["StartingPosition"]
            if params.get("StartingPositionTimestamp") is not None:
                mapping["StartingPositionTimestamp"] = params["StartingPositionTimestamp"]
            mapping["DestinationConfig"] = params.get("DestinationConfig") or {"OnFailure": {}}
        else:
            given = [member for member in STREAM_ONLY if params.get(member) not in (None, {}, False)]
            if given:
                raise invalid_parameter(f"Unsupported parameter for SQS event sources: {given[0]}")
        _check(mapping, source)
        await _check_role(self.state, ref, source_arn)
        for _, existing in await self.state.store.scan("event_source_mapping"):
            if existing["EventSourceArn"] == source_arn and existing["FunctionArn"] == target:
                kind = "Kinesis" if stream else "SQS"
                raise conflict(
                    f'An event source mapping with {kind} arn (" {source_arn} ") and function '
                    f'(" {ref.name} ") already exists. Please update or delete the existing mapping '
                    f"with UUID {existing['UUID']}"
                )
        await self.state.store.write([Put("event_source_mapping", mapping["UUID"], mapping)])
        await start_poller(self.pollers, mapping)
        return dict(_public(self.pollers, mapping), State="Creating" if mapping["State"] == "Enabled" else "Disabled")

    async def get_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        return _public(self.pollers, await _mapping(self.state, params["UUID"]))

    async def update_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        mapping = dict(await _mapping(self.state, params["UUID"]))
        if params.get("FunctionName"):
            ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region)
            try:
                await self.state.record(ref)
            except ServiceError:
                raise _no_function() from None
            mapping["FunctionArn"] = function_arn(ref.region, ref.account, ref.name, ref.qualifier)
        stream_mapping = "StartingPosition" in mapping
        for member in (
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "FunctionResponseTypes",
            "FilterCriteria",
            "ScalingConfig",
            *(tuple(STREAM_DEFAULTS) + ("DestinationConfig",) if stream_mapping else ()),
        ):
            if member in params:
                mapping[member] = params[member]
        transition = None
        if "Enabled" in params:
            transition = "Enabling" if params["Enabled"] else "Disabling"
            mapping["State"] = "Enabled" if params["Enabled"] else "Disabled"
        source = self.pollers.sources(mapping["EventSourceArn"])
        if source is not None:
            _check(mapping, source)
        mapping["LastModified"] = time.time()
        await self.state.store.write([Put("event_source_mapping", mapping["UUID"], mapping)])
        await stop_poller(self.pollers, mapping["UUID"])
        await start_poller(self.pollers, mapping)
        return dict(_public(self.pollers, mapping), State=transition or "Updating")

    async def delete_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        mapping = await _mapping(self.state, params["UUID"])
        await stop_poller(self.pollers, mapping["UUID"])
        await self.state.store.write(
            [Delete("event_source_mapping", mapping["UUID"]), checkpoints.forget(mapping["UUID"])]
        )
        return dict(_public(self.pollers, mapping), State="Deleting")

    async def list_event_source_mappings(self, params: dict, ctx: RequestContext) -> dict:
        mappings = [doc for _, doc in await self.state.store.scan("event_source_mapping")]
        if params.get("EventSourceArn"):
            mappings = [m for m in mappings if m["EventSourceArn"] == params["EventSourceArn"]]
        if params.get("FunctionName"):
            ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region)
            # The function's ARN, or it with a qualifier: a bare prefix test also matched every
            # function whose name merely starts with this one ("fn" listed "fn2"'s mappings).
            mappings = [
                m
                for m in mappings
                if (m["FunctionArn"] == ref.arn or m["FunctionArn"].startswith(ref.arn + ":"))
                and (ref.qualifier is None or m["FunctionArn"].endswith(f":{ref.qualifier}"))
            ]
        mappings.sort(key=lambda m: m["LastModified"])
        result = page(mappings, params, "EventSourceMappings", default_limit=100)
        result["EventSourceMappings"] = [_public(self.pollers, m) for m in result["EventSourceMappings"]]
        return result
