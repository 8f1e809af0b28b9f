"""Running event source mappings: one engine poller per enabled mapping — a QueuePoller
for a queue, a StreamPoller for a stream, with its checkpoints in the store — invoking
the mapping's function through the engine like any synchronous invoke.

The source side comes from `sources` (event source ARN -> QueueSource or StreamSource,
handed over by the services that own queues and streams).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ...engine.concurrency import Throttled, scope_of
from ...engine.delivery.destinations import Destinations
from ...engine.pollers import checkpoints
from ...engine.pollers.queue import Outcome, QueuePoller, QueueSource
from ...engine.pollers.stream import StreamPoller, StreamSettings, StreamSource
from ...engine.pool import PoolExhausted
from ...errors import ServiceError, invalid_parameter
from .arns import FunctionRef, parse_function
from .state import LambdaState

log = logging.getLogger("lamina.lambda")

Sources = Callable[[str], "QueueSource | StreamSource | None"]

# What a mapping's poller does to its source, as the function's execution role: the role
# must be allowed these (AWSLambdaSQSQueueExecutionRole / AWSLambdaKinesisExecutionRole).
SOURCE_ACTIONS = {
    "sqs": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
    "kinesis": ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream"),
}
DENIED_PAUSE_S = 5.0  # a poller whose role may not read its source looks again this often


# Reading through an enhanced fan-out consumer (its ARN as the source) takes this on it.
CONSUMER_ACTIONS = ("kinesis:SubscribeToShard",)


def source_actions(source_arn: str) -> tuple[str, ...]:
    parts = source_arn.split(":")
    if len(parts) > 5 and parts[2] == "kinesis" and "/consumer/" in parts[5]:
        return CONSUMER_ACTIONS
    return SOURCE_ACTIONS.get(parts[2], ()) if len(parts) > 2 else ()


def access_problem(source_arn: str, denied: str) -> str:
    """Lambda's words for a role that may not read the source (CreateEventSourceMapping's
    error, and a running mapping's LastProcessingResult after "PROBLEM: ")."""
    if source_arn.startswith("arn:aws:sqs:"):
        return f"The provided execution role does not have permissions to call {denied.split(':', 1)[1]} on SQS"
    return (
        f"Cannot access stream {source_arn}. Please ensure the role can perform the GetRecords, "
        "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
    )


@dataclass
class Pollers:
    """What running mappings takes, and the pollers running now (by mapping UUID)."""

    state: LambdaState
    destinations: Destinations  # a stream mapping's OnFailure destination
    sources: Sources
    running: dict[str, QueuePoller | StreamPoller] = field(default_factory=dict)


def record_filter(filter_criteria: dict | None, view_body: bool = True) -> Callable[[dict], bool] | None:
    """A mapping's FilterCriteria as a test of one record (None: every record passes);
    raises InvalidParameterValue if a pattern is malformed."""
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


async def start_all(pollers: Pollers) -> None:
    for _, mapping in await pollers.state.store.scan("event_source_mapping"):
        await start_poller(pollers, mapping)


async def stop_poller(pollers: Pollers, mapping_id: str) -> None:
    poller = pollers.running.pop(mapping_id, None)
    if poller is not None:
        await poller.stop()


async def start_poller(pollers: Pollers, mapping: dict) -> None:
    """Start polling for an enabled mapping (a disabled one, or one whose source is gone, waits)."""
    if mapping["State"] != "Enabled":
        return
    source = pollers.sources(mapping["EventSourceArn"])
    if source is None:
        log.warning("mapping %s: %s is gone", mapping["UUID"], mapping["EventSourceArn"])
        return
    state = pollers.state
    _, _, _, region, account, _, name, *qualifier = mapping["FunctionArn"].split(":")
    ref = parse_function(name, account, region, qualifier[0] if qualifier else None)
    invoked_arn = mapping["FunctionArn"]

    async def invoke(event: dict) -> Outcome:
        try:
            _, record = await state.resolve(ref, ref.qualifier)
            state.check_runnable(record)
        except ServiceError:
            return Outcome(True, throttled=True)  # the function is gone or Failed: hold the records
        spec = await state.spec(record, record["config"]["Version"])
        try:
            result = await state.engine.invoke(spec, json.dumps(event).encode(), invoked_arn=invoked_arn)
        except (Throttled, PoolExhausted):
            return Outcome(True, throttled=True)
        return Outcome(
            bool(result.function_error),
            result.payload,
            function_error=result.function_error,
            executed_version=result.executed_version,
        )

    poller: QueuePoller | StreamPoller
    source = _as_role(state, ref, mapping["EventSourceArn"], source, lambda: poller)
    if isinstance(source, StreamSource):
        poller = _stream_poller(pollers, mapping, source, invoke, ref)
    else:
        limit = ((mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")) or 1000
        poller = QueuePoller(
            mapping["UUID"],
            source,
            invoke,
            batch_size=mapping["BatchSize"],
            window_s=mapping["MaximumBatchingWindowInSeconds"],
            max_concurrency=limit,
            report_failures="ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
            accept=record_filter(mapping.get("FilterCriteria")),
        )
    pollers.running[mapping["UUID"]] = poller
    poller.start()


def _as_role(
    state: LambdaState,
    ref: FunctionRef,
    source_arn: str,
    source: QueueSource | StreamSource,
    poller: Callable[[], QueuePoller | StreamPoller],
) -> QueueSource | StreamSource:
    """The source as the function's execution role sees it: before each read, the role (the
    function's current one) must be allowed to read it; while it is not, nothing is read,
    the mapping's LastProcessingResult says why, and the poller looks again every few
    seconds. A decision is cached (authorizer), so a read pays microseconds for this."""
    denies = state.role_denies
    if denies is None:
        return source
    actions = source_actions(source_arn)
    held: dict[str, str] = {}  # the LastProcessingResult before a problem, while there is one

    async def problem() -> bool:
        try:
            _, record = await state.resolve(ref, ref.qualifier)
        except ServiceError:
            return False  # the function is gone: the invoke holds the records
        denied = await denies(record["config"].get("Role") or "", actions, source_arn)
        running = poller()
        if denied is not None:
            held.setdefault("before", running.last_result)
            running.last_result = "PROBLEM: " + access_problem(source_arn, denied)
            return True
        if "before" in held:
            running.last_result = held.pop("before")
        return False

    if isinstance(source, StreamSource):
        read = source.read

        async def guarded_read(shard_id: str, after: str | None, limit: int) -> list:
            if await problem():
                await asyncio.sleep(DENIED_PAUSE_S)
                return []
            return await read(shard_id, after, limit)

        return replace(source, read=guarded_read)
    receive = source.receive

    async def guarded_receive(count: int, wait_s: float, stopped: Callable[[], bool]) -> list[dict]:
        if await problem():
            deadline = asyncio.get_running_loop().time() + DENIED_PAUSE_S
            while not stopped() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.2)
            return []
        return await receive(count, wait_s, stopped)

    return replace(source, receive=guarded_receive)


def _stream_poller(
    pollers: Pollers, mapping: dict, source: StreamSource, invoke: Callable, ref: FunctionRef
) -> StreamPoller:
    function_name = ref.name
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
        # As the function's execution role, as Lambda sends it.
        options: dict[str, str] = {}
        try:
            _, function = await pollers.state.resolve(ref, ref.qualifier)
            if function["config"].get("Role"):
                options = {"role_arn": function["config"]["Role"], "source_service": "lambda.amazonaws.com"}
        except ServiceError:
            pass
        await pollers.destinations.send(destination, json.dumps(record).encode(), **options)

    series = [{"FunctionName": function_name}, {"EventSourceMappingUUID": mapping["UUID"]}]
    if mapping["FunctionArn"].count(":") == 7:
        series.append(
            {"FunctionName": function_name, "Resource": f"{function_name}:{mapping['FunctionArn'].rsplit(':', 1)[1]}"}
        )

    scope = scope_of(mapping["FunctionArn"])

    def report_age(age_ms: float) -> None:
        pollers.state.engine.iterator_age(series, age_ms, scope)

    return StreamPoller(
        mapping["UUID"],
        source,
        invoke,
        checkpoints.Checkpoints(pollers.state.store, mapping["UUID"]),
        settings,
        accept=record_filter(mapping.get("FilterCriteria"), view_body=False),
        on_failure=send_failure if destination else None,
        report_age=report_age,
        function_arn=mapping["FunctionArn"],
    )


async def stop_all(pollers: Pollers) -> None:
    # Shutting down: give batches in hand a moment to finish, then cancel (what is left
    # in flight comes back after its visibility timeout).
    running = [pollers.running.pop(mapping_id) for mapping_id in list(pollers.running)]
    await asyncio.gather(*(poller.stop(grace_s=2.0) for poller in running))


def _epoch_s(value) -> float:
    # botocore parsed StartingPositionTimestamp to a datetime or left a number of seconds.
    return value.timestamp() if hasattr(value, "timestamp") else float(value)
