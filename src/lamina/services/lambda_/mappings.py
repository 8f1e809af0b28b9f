"""Event source mappings: Create/Get/Update/Delete/ListEventSourceMappings, and running
them (one engine QueuePoller per enabled mapping of a queue).

    kind "event_source_mapping"  key "<UUID>"

The queue side comes from `sources` (event source ARN -> QueueSource, handed over by the
services that own queues); invocations go through the invoker like any synchronous one.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Callable

from ...engine.concurrency import Throttled
from ...engine.pollers.queue import Outcome, QueuePoller, QueueSource
from ...engine.pool import PoolExhausted
from ...errors import ServiceError, conflict, invalid_parameter, not_found
from ...store.base import Delete, Put
from ..context import RequestContext
from .arns import function_arn, parse_function
from .paging import page
from .state import LambdaState

log = logging.getLogger("lamina.lambda")

Sources = Callable[[str], "QueueSource | None"]


def _accept(filter_criteria: dict | None):
    filters = [f.get("Pattern") for f in (filter_criteria or {}).get("Filters") or [] if f.get("Pattern")]
    if not filters:
        return None
    from ...engine import patterns

    compiled = []
    for raw in filters:
        try:
            compiled.append(patterns.compile_pattern(raw))
        except (patterns.InvalidPattern, ValueError) as error:
            raise invalid_parameter(f"Invalid filter pattern definition. {error}") from None

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
            raise invalid_parameter(f"Error occurred while ReceiveMessage. SQS Error Code: "
                                    f"AWS.SimpleQueueService.NonExistentQueue. The queue {source_arn} does not exist.")
        target = function_arn(ref.region, ref.account, ref.name, ref.qualifier)
        for _, existing in await self.state.store.scan("event_source_mapping"):
            if existing["EventSourceArn"] == source_arn and existing["FunctionArn"] == target:
                raise conflict(f"An event source mapping with SQS arn (\" {source_arn} \") and function "
                               f"(\" {ref.name} \") already exists. Please update or delete the existing mapping "
                               f"with UUID {existing['UUID']}")
        mapping = {
            "UUID": str(uuid.uuid4()),
            "EventSourceArn": source_arn,
            "FunctionArn": target,
            "BatchSize": params.get("BatchSize", 10),
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
        self._check(mapping, source)
        await self.state.store.write([Put("event_source_mapping", mapping["UUID"], mapping)])
        await self._run(mapping)
        return dict(mapping, State="Creating" if mapping["State"] == "Enabled" else "Disabled")

    @staticmethod
    def _check(mapping: dict, source: QueueSource) -> None:
        batch, window = mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]
        if source.fifo and batch > 10:
            raise invalid_parameter("BatchSize must be less than or equal to 10 for FIFO queues.")
        if batch > 10 and window < 1:
            raise invalid_parameter("Maximum batch window in seconds must be greater than 0 if maximum batch size "
                                    "is greater than 10")
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
        for member in ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria",
                       "ScalingConfig"):
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
        await self.state.store.write([Delete("event_source_mapping", mapping["UUID"])])
        await self._stop(mapping["UUID"])
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
                return Outcome(True)
            spec = await self.state.spec(record, record["config"]["Version"])
            try:
                result = await self.state.invoker.invoke(spec, json.dumps(event).encode(), invoked_arn=invoked_arn)
            except (Throttled, PoolExhausted):
                return Outcome(True)
            return Outcome(bool(result.function_error), result.payload)

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

    async def stop_mappings(self) -> None:
        # Shutting down: give batches in hand a moment to finish, then cancel (what is left
        # in flight comes back after its visibility timeout).
        pollers = [self.pollers.pop(mapping_id) for mapping_id in list(self.pollers)]
        await asyncio.gather(*(poller.stop(grace_s=2.0) for poller in pollers))
