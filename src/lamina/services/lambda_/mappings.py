"""Event source mappings: Create/Get/Update/Delete/ListEventSourceMappings, and running
them (one engine poller per enabled mapping: a QueuePoller for a queue, a StreamPoller for
a stream, with its checkpoints in the store).

    kind "event_source_mapping"  key "<UUID>"

The source side comes from `sources` (event source ARN -> QueueSource or StreamSource,
handed over by the services that own queues and streams); invocations go through the
invoker like any synchronous one.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Callable

from ... import ids
from ...engine.concurrency import Throttled, scope_of
from ...engine.pollers import checkpoints
from ...engine.pollers.queue import Outcome, QueuePoller, QueueSource
from ...engine.pollers.stream import StreamPoller, StreamSettings, StreamSource
from ...engine.pool import PoolExhausted
from ...errors import ServiceError, conflict, invalid_parameter, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import function_arn, parse_function
from .paging import page
from .state import LambdaState

log = logging.getLogger("lamina.lambda")

Sources = Callable[[str], "QueueSource | StreamSource | None"]

# Members only a stream mapping takes, with their defaults (as GetEventSourceMapping shows them).
STREAM_DEFAULTS = {"ParallelizationFactor": 1, "BisectBatchOnFunctionError": False, "MaximumRetryAttempts": -1,
                   "MaximumRecordAgeInSeconds": -1, "TumblingWindowInSeconds": 0}
STREAM_ONLY = (*STREAM_DEFAULTS, "StartingPosition", "StartingPositionTimestamp", "DestinationConfig")


def _accept(filter_criteria: dict | None, view_body: bool = True):
    filters = [f.get("Pattern") for f in (filter_criteria or {}).get("Filters") or [] if f.get("Pattern")]
    if not filters:
        return None
    from ... import patterns

    compiled = []
    for raw in filters:
        try:
            compiled.append(patterns.compile_pattern(raw))
        except (patterns.InvalidPattern, ValueError) as error:
            raise invalid_parameter(f"Invalid filter pattern definition. {error}") from None

    if not view_body:  # the poller hands over the record as patterns see it (streams)
        return lambda record: any(pattern.matches(record) for pattern in compiled)

    def accept(record: dict) -> bool:
        # Patterns see the record, with a JSON body as an object (as Lambda event filtering does).
        candidate = dict(record)
        try:
            body = json.loads(record.get("body", ""))
            if isinstance(body, dict):
                candidate["body"] = body
        except ValueError:
            pass
        return any(pattern.matches(candidate) for pattern in compiled)

    return accept


class MappingsApi:
    state: LambdaState
    sources: Sources
    pollers: dict[str, QueuePoller]

    async def create_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        source_arn = params.get("EventSourceArn")
        if not source_arn:
            raise invalid_parameter("Unrecognized event source, must be kinesis, dynamodb stream or sqs.")
        ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region)
        await self.state.resolve(ref, ref.qualifier)
        source = self.sources(source_arn)
        if source is None:
            if source_arn.startswith("arn:aws:kinesis:"):
                raise invalid_parameter(f"Stream not found: {source_arn}")
            raise invalid_parameter(f"Error occurred while ReceiveMessage. SQS Error Code: "
                                    f"AWS.SimpleQueueService.NonExistentQueue. The queue {source_arn} does not exist.")
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
            "LastProcessingResult": "No records processed",
            "State": "Enabled" if params.get("Enabled", True) else "Disabled",
            "StateTransitionReason": "USER_INITIATED",
        }
        mapping["EventSourceMappingArn"] = f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:event-source-mapping:{mapping['UUID']}"
        for member in ("FilterCriteria", "ScalingConfig"):
            if params.get(member):
                mapping[member] = params[member]
        if stream:
            if not params.get("StartingPosition"):
                raise invalid_parameter("1 validation error detected: Value null at 'startingPosition' failed to "
                                        "satisfy constraint: Member must not be null")
            mapping.update({member: params.get(member, default) for member, default in STREAM_DEFAULTS.items()})
            mapping["StartingPosition"] = params["StartingPosition"]
            if params.get("StartingPositionTimestamp") is not None:
                mapping["StartingPositionTimestamp"] = params["StartingPositionTimestamp"]
            mapping["DestinationConfig"] = params.get("DestinationConfig") or {"OnFailure": {}}
        else:
            given = [member for member in STREAM_ONLY if params.get(member) not in (None, {}, False)]
            if given:
                raise invalid_parameter(f"Unsupported parameter for SQS event sources: {given[0]}")
        self._check(mapping, source)
        for _, existing in await self.state.store.scan("event_source_mapping"):
            if existing["EventSourceArn"] == source_arn and existing["FunctionArn"] == target:
                kind = "Kinesis" if stream else "SQS"
                raise conflict(f"An event source mapping with {kind} arn (\" {source_arn} \") and function "
                               f"(\" {ref.name} \") already exists. Please update or delete the existing mapping "
                               f"with UUID {existing['UUID']}")
        await self.state.store.write([Put("event_source_mapping", mapping["UUID"], mapping)])
        await self._run(mapping)
        return dict(mapping, State="Creating" if mapping["State"] == "Enabled" else "Disabled")

    def _check(self, mapping: dict, source: "QueueSource | StreamSource") -> None:
        batch, window = mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]
        if isinstance(source, StreamSource):
            _check_stream(mapping)
        else:
            if source.fifo and batch > 10:
                raise invalid_parameter("BatchSize must be less than or equal to 10 for FIFO queues.")
            if batch > 10 and window < 1:
                raise invalid_parameter("Maximum batch window in seconds must be greater than 0 if maximum batch "
                                        "size is greater than 10")
        _accept(mapping.get("FilterCriteria"))  # raises if a pattern is malformed
        unknown = set(mapping["FunctionResponseTypes"]) - {"ReportBatchItemFailures"}
        if unknown:
            raise invalid_parameter(f"Unsupported FunctionResponseTypes: {sorted(unknown)}")

    async def _mapping(self, mapping_id: str) -> dict:
        mapping = await self.state.store.get("event_source_mapping", mapping_id)
        if mapping is None:
            raise not_found("The resource you requested does not exist.")
        return mapping

    def _public(self, mapping: dict) -> dict:
        poller = self.pollers.get(mapping["UUID"])
        if poller is not None:
            return dict(mapping, LastProcessingResult=poller.last_result)
        return mapping

    async def get_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        return self._public(await self._mapping(params["UUID"]))

    async def update_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        mapping = dict(await self._mapping(params["UUID"]))
        if params.get("FunctionName"):
            ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region)
            await self.state.resolve(ref, ref.qualifier)
            mapping["FunctionArn"] = function_arn(ref.region, ref.account, ref.name, ref.qualifier)
        stream_mapping = "StartingPosition" in mapping
        for member in ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria",
                       "ScalingConfig", *(tuple(STREAM_DEFAULTS) + ("DestinationConfig",) if stream_mapping else ())):
            if member in params:
                mapping[member] = params[member]
        transition = None
        if "Enabled" in params:
            transition = "Enabling" if params["Enabled"] else "Disabling"
            mapping["State"] = "Enabled" if params["Enabled"] else "Disabled"
        source = self.sources(mapping["EventSourceArn"])
        if source is not None:
            self._check(mapping, source)
        mapping["LastModified"] = time.time()
        await self.state.store.write([Put("event_source_mapping", mapping["UUID"], mapping)])
        await self._stop(mapping["UUID"])
        await self._run(mapping)
        return dict(self._public(mapping), State=transition or "Updating")

    async def delete_event_source_mapping(self, params: dict, ctx: RequestContext) -> dict:
        mapping = await self._mapping(params["UUID"])
        await self._stop(mapping["UUID"])
        await self.state.store.write([Delete("event_source_mapping", mapping["UUID"]),
                                      checkpoints.forget(mapping["UUID"])])
        return dict(mapping, State="Deleting")

    async def list_event_source_mappings(self, params: dict, ctx: RequestContext) -> dict:
        mappings = [doc for _, doc in await self.state.store.scan("event_source_mapping")]
        if params.get("EventSourceArn"):
            mappings = [m for m in mappings if m["EventSourceArn"] == params["EventSourceArn"]]
        if params.get("FunctionName"):
            ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region)
            # The function's ARN, or it with a qualifier: a bare prefix test also matched every
            # function whose name merely starts with this one ("fn" listed "fn2"'s mappings).
            mappings = [m for m in mappings
                        if (m["FunctionArn"] == ref.arn or m["FunctionArn"].startswith(ref.arn + ":"))
                        and (ref.qualifier is None or m["FunctionArn"].endswith(f":{ref.qualifier}"))]
        mappings.sort(key=lambda m: m["LastModified"])
        result = page(mappings, params, "EventSourceMappings", default_limit=100)
        result["EventSourceMappings"] = [self._public(m) for m in result["EventSourceMappings"]]
        return result

    # --- running --------------------------------------------------------------------------------

    async def start_mappings(self) -> None:
        for _, mapping in await self.state.store.scan("event_source_mapping"):
            await self._run(mapping)

    async def _stop(self, mapping_id: str) -> None:
        poller = self.pollers.pop(mapping_id, None)
        if poller is not None:
            await poller.stop()

    async def _run(self, mapping: dict) -> None:
        if mapping["State"] != "Enabled":
            return
        source = self.sources(mapping["EventSourceArn"])
        if source is None:
            log.warning("mapping %s: %s is gone", mapping["UUID"], mapping["EventSourceArn"])
            return
        _, _, _, region, account, _, name, *qualifier = mapping["FunctionArn"].split(":")
        ref = parse_function(name, account, region, qualifier[0] if qualifier else None)
        invoked_arn = mapping["FunctionArn"]

        async def invoke(event: dict) -> Outcome:
            try:
                _, record = await self.state.resolve(ref, ref.qualifier)
            except ServiceError:
                return Outcome(True, throttled=True)  # the function is gone: hold the records
            spec = await self.state.spec(record, record["config"]["Version"])
            try:
                result = await self.state.engine.invoke(spec, json.dumps(event).encode(), invoked_arn=invoked_arn)
            except (Throttled, PoolExhausted):
                return Outcome(True, throttled=True)
            return Outcome(bool(result.function_error), result.payload, function_error=result.function_error,
                           executed_version=result.executed_version)

        if isinstance(source, StreamSource):
            poller = self._stream_poller(mapping, source, invoke, ref.name)
        else:
            limit = ((mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")) or 1000
            poller = QueuePoller(
                mapping["UUID"], source, invoke,
                batch_size=mapping["BatchSize"], window_s=mapping["MaximumBatchingWindowInSeconds"],
                max_concurrency=limit,
                report_failures="ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
                accept=_accept(mapping.get("FilterCriteria")),
            )
        self.pollers[mapping["UUID"]] = poller
        poller.start()

    def _stream_poller(self, mapping: dict, source: StreamSource, invoke, function_name: str) -> StreamPoller:
        timestamp = mapping.get("StartingPositionTimestamp")
        settings = StreamSettings(
            starting_position=mapping["StartingPosition"],
            starting_timestamp_ms=int(_epoch_s(timestamp) * 1000) if timestamp is not None else None,
            batch_size=mapping["BatchSize"],
            window_s=mapping["MaximumBatchingWindowInSeconds"],
            parallelization=mapping.get("ParallelizationFactor", 1),
            bisect=mapping.get("BisectBatchOnFunctionError", False),
            max_retries=mapping.get("MaximumRetryAttempts", -1),
            max_age_s=mapping.get("MaximumRecordAgeInSeconds", -1),
            report_failures="ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
            tumbling_window_s=mapping.get("TumblingWindowInSeconds", 0),
        )
        destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")

        async def send_failure(record: dict) -> None:
            await self.destinations.send(destination, json.dumps(record).encode())

        series = [{"FunctionName": function_name}, {"EventSourceMappingUUID": mapping["UUID"]}]
        if mapping["FunctionArn"].count(":") == 7:
            series.append({"FunctionName": function_name,
                           "Resource": f"{function_name}:{mapping['FunctionArn'].rsplit(':', 1)[1]}"})

        scope = scope_of(mapping["FunctionArn"])

        def report_age(age_ms: float) -> None:
            self.state.engine.iterator_age(series, age_ms, scope)

        return StreamPoller(mapping["UUID"], source, invoke, checkpoints.Checkpoints(self.state.store, mapping["UUID"]),
                            settings, accept=_accept(mapping.get("FilterCriteria"), view_body=False),
                            on_failure=send_failure if destination else None, report_age=report_age, function_arn=mapping["FunctionArn"])

    async def stop_mappings(self) -> None:
        # Shutting down: give batches in hand a moment to finish, then cancel (what is left
        # in flight comes back after its visibility timeout).
        pollers = [self.pollers.pop(mapping_id) for mapping_id in list(self.pollers)]
        await asyncio.gather(*(poller.stop(grace_s=2.0) for poller in pollers))


def _epoch_s(value) -> float:
    # botocore parsed StartingPositionTimestamp to a datetime or left a number of seconds.
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _check_stream(mapping: dict) -> None:
    def within(member: str, low: int, high: int, also: tuple = ()) -> None:
        value = mapping.get(member)
        if value is not None and not (low <= value <= high or value in also):
            raise invalid_parameter(f"1 validation error detected: Value '{value}' at '{member[0].lower() + member[1:]}'"
                                    f" failed to satisfy constraint: Member must have value between {low} and {high}")

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
        raise invalid_parameter("The provided destination config DestinationConfig(onSuccess=null, onFailure="
                                f"OnFailure(destination={destination})) is invalid. Destination must be an SQS queue "
                                "or an SNS topic.")
