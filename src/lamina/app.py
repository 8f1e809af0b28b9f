"""The composition root: store + engine + services + gateway, built and wired here only."""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass

from . import ids
from .config import Settings
from .engine.delivery.async_queue import AsyncQueue
from .engine.concurrency import Concurrency
from .engine.delivery.destinations import Destinations
from .engine.facade import Engine
from .engine.factory import SandboxFactory
from .engine.invoker import Invoker
from .engine.pool import Pool
from .engine.provisioned import Provisioner
from .engine.snapstart import Snapshots
from .observability.logsink import LogSink
from .observability.recorder import MetricsRecorder
from .engine.timers.scheduler import Scheduler
from .engine.sandbox.host import SandboxHost
from .engine.sandbox.launcher import Launcher
from .engine.telemetry import LambdaTelemetry
from .errors import ServiceError
from .gateway import Gateway
from .http.metrics import prometheus_handler
from .protocol import serializers
from .protocol.messages import Request, Response
from .protocol.router import Router
from .protocol.sigv4 import Verifier
from .services.cloudwatch import CloudWatchService
from .services.events import EventsService
from .services.kinesis import KinesisService
from .services.context import RequestContext
from .services.lambda_ import LambdaService
from .services.lambda_.code import CodeStore
from .services.lambda_.state import LambdaState, Limits
from .services.logs import LogsService
from .services.scheduler import SchedulerService
from .services.sns import SnsService
from .services.sqs import SqsService
from .store.sqlite import SQLiteStore

log = logging.getLogger("lamina")

SERVICES = ["lambda", "logs", "cloudwatch", "sqs", "sns", "events", "scheduler", "kinesis"]
_CODE_PATH = re.compile(r"^/_lamina/code/([0-9a-f]{64})\.zip$")


@dataclass
class Lamina:
    settings: Settings
    store: SQLiteStore
    engine: Engine
    async_queue: AsyncQueue
    gateway: Gateway
    sink: LogSink
    metrics: MetricsRecorder


def front_door(settings: Settings) -> tuple[Router, Verifier]:
    """What it takes to read a request, in the core or in a front process (http/fronts.py)."""
    verifier = Verifier(settings.credentials(), settings.account_id, settings.region,
                        enforce=settings.enforce_signatures)
    return Router(SERVICES), verifier


def build(settings: Settings, door: tuple[Router, Verifier] | None = None, fronts: tuple[int, ...] = ()) -> Lamina:
    """`door`: the router and verifier the fronts were forked with; `fronts`: their pids."""
    data_dir = os.path.abspath(settings.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    store = SQLiteStore(os.path.join(data_dir, "lamina.db"))
    sink = LogSink(store)
    # Functions must not see the platform's state: the data dir is hidden inside sandboxes.
    host = SandboxHost(hide=[data_dir])
    metrics = MetricsRecorder(store, default_scope=(settings.region, settings.account_id))
    concurrency = Concurrency(settings.account_concurrency, settings.scale_per_10s,
                              min_unreserved=min(100, settings.account_concurrency))
    launcher = Launcher()
    sandbox_credentials = ("test", "test")
    snapshots = Snapshots(sink, host, launcher, settings.endpoint_url, sandbox_credentials)
    factory = SandboxFactory(sink, host, launcher, snapshots, settings.endpoint_url, sandbox_credentials)
    pool = Pool(factory.launch, idle_timeout_s=settings.idle_timeout_s,
                max_instances=settings.max_instances or settings.account_concurrency)
    provisioner = Provisioner(pool)
    telemetry = LambdaTelemetry(metrics, concurrency, provisioner.usage)
    engine = Engine(Invoker(pool, concurrency, telemetry, provisioner), pool, provisioner, snapshots, factory,
                    concurrency, telemetry)
    code = CodeStore(os.path.join(data_dir, "code"))
    limits = Limits(sync_payload_bytes=settings.sync_payload_bytes, async_payload_bytes=settings.async_payload_bytes)
    destinations = Destinations()
    sqs = SqsService(store)
    kinesis = KinesisService(store)
    lambda_service = LambdaService(LambdaState(store, code, engine, limits), destinations,
                                   sources=lambda arn: sqs.queue_source(arn) or kinesis.stream_source(arn))
    destinations.register("lambda", lambda_service.deliver_to_function)
    async_queue = AsyncQueue(store, lambda_service.run_async_event, finish=lambda_service.finish_async_event,
                             per_function=settings.async_workers, total=settings.account_concurrency,
                             limit_of=concurrency.reserved.get, retry_delays_s=settings.async_retry_delays_s,
                             throttle_backoff_s=settings.async_throttle_backoff_s, pending_logs=sink.take)
    lambda_service.async_queue = async_queue
    destinations.register("sqs", sqs.deliver)
    sns_retries = os.environ.get("LAMINA_SNS_RETRY_DELAYS")  # seconds between Lambda/SQS delivery attempts
    sns = SnsService(store, destinations, settings.endpoint_url,
                     **({"retry_delays_s": tuple(float(d) for d in sns_retries.split(",") if d.strip())}
                        if sns_retries else {}))
    destinations.register("sns", sns.deliver)
    destinations.register("kinesis", kinesis.deliver)
    scheduler = Scheduler()
    events = EventsService(store, destinations, scheduler)
    schedules = SchedulerService(store, destinations, scheduler)
    services = {"lambda": lambda_service, "logs": LogsService(store, sink), "cloudwatch": CloudWatchService(metrics),
                "sqs": sqs, "sns": sns, "events": events, "scheduler": schedules, "kinesis": kinesis}

    router, verifier = door or front_door(settings)

    async def startup() -> None:
        metrics.start()
        await engine.start()
        await sqs.start()
        await kinesis.start()
        await lambda_service.start()
        recovered = await async_queue.start()
        if recovered:
            log.info("recovered %d queued async invocations", recovered)
        resumed = await sns.start()
        if resumed:
            log.info("resumed %d undelivered SNS messages", resumed)
        for name, service in (("EventBridge target deliveries", events), ("schedule occurrences", schedules)):
            resumed = await service.start()
            if resumed:
                log.info("resumed %d undelivered %s", resumed, name)
        scheduler.start()

    async def shutdown() -> None:
        await scheduler.close()
        await schedules.stop()
        await events.stop()
        await sns.stop()
        await lambda_service.stop_mappings()
        await kinesis.stop()
        await async_queue.close()
        await engine.close()
        await sink.close()
        await metrics.close()
        await store.close()

    gateway = Gateway(router, services, verifier, settings.endpoint_url,
                      on_startup=startup, on_shutdown=shutdown)

    async def health(request: Request) -> Response:
        body = {"status": "running", "services": SERVICES, "instances": engine.instance_count,
                "async_queue_depth": async_queue.depth, "fronts": list(fronts)}
        return Response(200, [("content-type", "application/json")], json.dumps(body).encode())

    async def code_zip(request: Request) -> Response:
        match = _CODE_PATH.match(request.path)
        if not match or not os.path.exists(code.zip_path(match.group(1))):
            return Response(404, [("content-type", "text/plain")], b"not found")
        return Response(200, [("content-type", "application/zip")], code.read(match.group(1)))

    async def sns_link(request: Request) -> Response:
        # SubscribeURL and UnsubscribeURL: followed unsigned, as on AWS, answered in SNS's XML.
        request_id = ids.uuid4()
        spec = gateway.router.specs["sns"]
        ctx = RequestContext(settings.account_id, settings.region, request_id,
                             f"http://{request.headers['host']}" if "host" in request.headers else settings.endpoint_url)
        try:
            operation, result = await sns.follow_link(request.path, request.query_string, ctx)
        except ServiceError as error:
            return serializers.serialize_error(spec, error, request_id)
        return serializers.serialize(spec, spec.model.operation_model(operation), result, request_id)

    gateway.mount("/_lamina/health", health)
    gateway.mount("/_lamina/sns/", sns_link)
    gateway.mount("/_lamina/code/", code_zip)
    gateway.mount("/metrics", prometheus_handler(metrics))
    return Lamina(settings, store, engine, async_queue, gateway, sink, metrics)
