"""The composition root: store + observability + engine + services + gateway, built and
wired here only. Nothing else constructs a service or an engine part, and every setting
comes from Settings.

Adding a service: a folder under services/ with a class implementing services/base.py's
Service, its name in SERVICES and one line in _services() (plus a line registering it
with the destinations if other services deliver to it).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from .access.authorizer import Authorizer
from .access.deliveries import DeliveryGate
from .access.federation import trusts_federated
from .access.s3 import S3Access
from .config import Settings, version
from .engine.concurrency import Concurrency
from .engine.delivery.async_queue import AsyncQueue, Finish, Run
from .engine.delivery.destinations import Destinations
from .engine.delivery.retry import RetryPolicy
from .engine.facade import Engine
from .engine.factory import SandboxFactory
from .engine.invoker import Invoker
from .engine.pool import Pool
from .engine.provisioned import Provisioner
from .engine.runtimes import Runtimes
from .engine.sandbox.environment import Platform
from .engine.sandbox.host import SandboxHost
from .engine.sandbox.runtime_packages import RuntimePackages
from .engine.sandbox.zygotes import Zygotes
from .engine.snapstart import Snapshots
from .engine.telemetry import LambdaTelemetry
from .engine.timers.scheduler import Scheduler
from .errors import ServiceError
from .gateway import Gateway
from .http.code import code_handler
from .http.execute_api import HOST_SUFFIX, PATH_PREFIX, ExecuteApi
from .http.execute_api.functions import Functions
from .http.execute_api.http_api import HttpApiPlane
from .http.execute_api.rest_api import RestApiPlane
from .http.execute_api.websocket_api import WebSocketPlane, build_plane
from .http.function_urls import mount_function_urls
from .http.health import health_handler, localstack_health_handler
from .http.metrics import prometheus_handler
from .http.reset import reset_handler
from .http.root import page_handler
from .http.s3_website import suffixes as website_suffixes
from .http.s3_website import website_handler
from .http.sns_links import sns_link_handler
from .identity.keyring import KeyRing
from .identity.principals import root
from .identity.sessions import SESSION_TTL_S, ExecutionSessions
from .identity.tokens import Sealer
from .observability.logsink import LogSink
from .observability.recorder import MetricsRecorder
from .protocol.router import Router
from .protocol.sigv4 import Verifier
from .services.apigateway import ApiGatewayService
from .services.apigatewayv2 import ApiGatewayV2Service
from .services.autoscaling import AutoScalingService
from .services.base import Service
from .services.cloudwatch import CloudWatchService
from .services.efs import EfsService
from .services.events import EventsService
from .services.iam import IamService
from .services.kinesis import KinesisService
from .services.kinesis.state import KinesisConfig
from .services.lambda_ import LambdaService
from .services.lambda_.code import CodeStore
from .services.lambda_.state import LambdaState, Limits
from .services.logs import LogsService
from .services.s3 import S3Service
from .services.s3 import fetch as s3_fetch
from .services.scheduler import SchedulerService
from .services.sns import SnsService
from .services.sns.signing import Signer
from .services.sqs import SqsService
from .services.sts import StsService
from .store.base import DeleteEverything
from .store.sqlite import SQLiteStore

log = logging.getLogger("lamina")

# The services, by their botocore names, in start order (stopped in reverse): a service
# starts after those it reads from (Lambda's mappings poll SQS queues and Kinesis streams;
# its functions mount EFS access points).
SERVICES = (
    "sqs",
    "kinesis",
    "efs",
    "lambda",
    "logs",
    "cloudwatch",
    "sns",
    "s3",
    "events",
    "scheduler",
    "iam",
    "sts",
    "application-autoscaling",
    "apigatewayv2",
    "apigateway",
)


@dataclass
class Lamina:
    settings: Settings
    store: SQLiteStore
    engine: Engine
    services: dict[str, Service]
    gateway: Gateway
    sink: LogSink
    metrics: MetricsRecorder


def front_door(settings: Settings) -> tuple[Router, Verifier]:
    """What it takes to read a request, in the core or in a front process (http/fronts.py).
    Temporary credentials are sealed with a key kept in the data dir (identity/tokens.py),
    so those issued before a restart still verify after it."""
    data_dir = os.path.abspath(settings.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    keys = KeyRing(settings.credentials(), Sealer.from_file(os.path.join(data_dir, "identity.key")))
    verifier = Verifier(keys, settings.account_id, settings.region, enforce=settings.enforce_signatures)
    return Router(list(SERVICES)), verifier


def build(settings: Settings, door: tuple[Router, Verifier] | None = None, fronts: tuple[int, ...] = ()) -> Lamina:
    """`door`: the router and verifier the fronts were forked with; `fronts`: their pids."""
    data_dir = os.path.abspath(settings.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    store = SQLiteStore(os.path.join(data_dir, "lamina.db"), synchronous=settings.sqlite_synchronous)
    sink = LogSink(store)
    metrics = MetricsRecorder(store, default_scope=(settings.region, settings.account_id))
    router, verifier = door or front_door(settings)
    # Each function instance signs its calls as a session of its execution role.
    sessions = ExecutionSessions(verifier.keys.sealer)
    engine = _engine(settings, sink, metrics, data_dir, sessions)
    scheduler = Scheduler(settings.scheduler_speedup)
    code = CodeStore(os.path.join(data_dir, "code"))
    authorizer = Authorizer(settings.iam_mode)
    services = _services(settings, store, sink, metrics, engine, scheduler, code, verifier.keys, authorizer, sessions)
    assert tuple(services) == SERVICES, "every service in SERVICES is built, in that order"

    async def startup() -> None:
        metrics.start()
        await engine.start()
        for service in services.values():
            await service.start()
        scheduler.start()

    async def shutdown() -> None:
        await scheduler.close()
        for service in reversed(services.values()):
            await service.stop()
        await engine.close()
        await sink.close()
        await metrics.close()
        await store.close()

    gateway = Gateway(router, services, verifier, settings.endpoint_url, on_startup=startup, on_shutdown=shutdown)
    gateway.authorize = authorizer.check
    iam_service = services["iam"]
    assert isinstance(iam_service, IamService)
    gateway.user_keys = iam_service  # shared with front processes, which verify IAM users' requests
    lambda_service = services["lambda"]
    assert isinstance(lambda_service, LambdaService)
    # Application Auto Scaling changes provisioned concurrency (and keeps its alarms) by
    # calling Lambda and CloudWatch by name, as a client would, through the gateway.
    autoscaling = services["application-autoscaling"]
    assert isinstance(autoscaling, AutoScalingService)
    autoscaling.call = gateway.call_here

    def status() -> dict:
        return {
            "services": list(SERVICES),
            "instances": engine.instance_count,
            "async_queue_depth": lambda_service.async_queue.depth,
            "fronts": list(fronts),
        }

    gateway.mount("/_lamina/health", health_handler(status, version()))
    gateway.mount("/_localstack/health", localstack_health_handler(list(SERVICES), version()))
    gateway.mount(
        "/_lamina/sns/",
        sns_link_handler(services["sns"], router, settings.account_id, settings.region, settings.endpoint_url),
    )
    gateway.mount("/_lamina/code/", code_handler(code))
    mount_function_urls(gateway, lambda_service, verifier, authorizer, settings.region)
    s3_service = services["s3"]
    assert isinstance(s3_service, S3Service)
    gateway.finishers["s3"] = s3_service.finish  # CORS headers, x-amz-expiration
    website = website_handler(s3_service.website_answer, website_suffixes(settings.region))
    for suffix in website_suffixes(settings.region):
        gateway.mount_host(suffix, website)  # {bucket}.s3-website[-.]{region}.localhost
    websocket = _websocket_plane(gateway, services, settings, authorizer, sink, metrics)
    http, rest = _http_and_rest_planes(gateway, services, settings, authorizer, sink, store, metrics)
    _mount_execute_api(gateway, services, websocket, http, rest)

    async def reset() -> None:
        """As if started on an empty data dir, settings kept; AWS calls held meanwhile.
        Shutdown's order (services stopped last to first, no instance left), every
        service's memory and the store emptied, then startup's order again."""
        async with gateway.hold():
            for service in reversed(services.values()):
                await service.stop()
            await engine.reset()
            for service in reversed(services.values()):
                await service.reset()
            sink.reset()  # its known groups, and buffered function output
            await metrics.reset()  # its minutes in progress and the totals /metrics shows
            await store.write([DeleteEverything()])
            for service in services.values():
                await service.start()
        log.info("reset: every resource and message is gone")

    gateway.mount("/_lamina/reset", reset_handler(reset))
    gateway.mount("/_localstack/state/reset", reset_handler(reset))
    gateway.mount("/metrics", prometheus_handler(metrics))
    full_names = [(name, router.specs[name].model.metadata.get("serviceFullName", name)) for name in SERVICES]
    page = page_handler(version(), full_names, settings.endpoint_url, settings.region)
    gateway.mount_page(page)
    return Lamina(settings, store, engine, services, gateway, sink, metrics)


def _engine(
    settings: Settings, sink: LogSink, metrics: MetricsRecorder, data_dir: str, sessions: ExecutionSessions
) -> Engine:
    # Functions must not see the platform's state: the data dir is hidden inside sandboxes.
    host = SandboxHost(hide=[data_dir], isolation=settings.isolation)
    zygotes = Zygotes(
        Runtimes(settings.interpreters),
        RuntimePackages(
            os.path.join(data_dir, "runtime", "python"), os.path.join(settings.cache_dir, "runtime-packages")
        ),
        mounted=host.isolated,
    )
    concurrency = Concurrency(
        settings.account_concurrency, settings.scale_per_10s, min_unreserved=min(100, settings.account_concurrency)
    )
    platform = Platform(settings.endpoint_url, sessions)
    snapshots = Snapshots(sink, host, zygotes, platform)
    factory = SandboxFactory(sink, host, zygotes, snapshots, platform)
    pool = Pool(
        factory.launch,
        idle_timeout_s=settings.idle_timeout_s,
        max_instances=settings.max_instances or settings.account_concurrency,
        # Instances go an hour before their execution-role credentials expire.
        max_age_s=SESSION_TTL_S - 3600,
    )
    provisioner = Provisioner(pool)
    telemetry = LambdaTelemetry(metrics, concurrency, provisioner.usage)
    invoker = Invoker(pool, concurrency, telemetry, provisioner)
    return Engine(invoker, pool, provisioner, snapshots, factory, concurrency, telemetry)


def _mount_execute_api(
    gateway: Gateway, services: dict[str, Service], websocket: WebSocketPlane, http: HttpApiPlane, rest: RestApiPlane
) -> None:
    """The APIs users built in API Gateway, called by Host or by the path form: the data
    planes of each kind of API (http/execute_api/) over the control planes' state."""
    v2, v1 = services["apigatewayv2"], services["apigateway"]
    assert isinstance(v2, ApiGatewayV2Service) and isinstance(v1, ApiGatewayService)
    execute_api = ExecuteApi(
        v2.state.serving, planes={"WEBSOCKET": websocket, "HTTP": http, "REST": rest}, rest=v1.state.serving
    )
    gateway.mount_host(HOST_SUFFIX, execute_api.handle, websocket=websocket)
    gateway.mount(PATH_PREFIX, execute_api.handle)


def _http_and_rest_planes(
    gateway: Gateway,
    services: dict[str, Service],
    settings: Settings,
    authorizer: Authorizer,
    sink: LogSink,
    store: SQLiteStore,
    metrics: MetricsRecorder,
) -> tuple[HttpApiPlane, RestApiPlane]:
    """HTTP and REST APIs' calls: functions invoked as API Gateway (the delivery gate decides),
    AWS service actions called through the gateway as the integration's role (HTTP APIs' by
    name; REST APIs' served as the service's endpoint would, the router parsing them), keys
    and usage from the REST control plane."""
    v2, v1, iam = services["apigatewayv2"], services["apigateway"], services["iam"]
    assert isinstance(v2, ApiGatewayV2Service) and isinstance(v1, ApiGatewayService) and isinstance(iam, IamService)
    both: dict[str, Any] = {
        "call": gateway.call_here,
        "check": DeliveryGate(authorizer, iam.role).check,
        "access": authorizer,
        "verifier": gateway.verifier,
        "roles": iam.role,
        "sink": sink,
        "store": store,
        "recorder": metrics,
        "endpoint_url": settings.endpoint_url,
    }
    http = HttpApiPlane(v2=v2.state, specs=gateway.router.specs, **both)
    rest = RestApiPlane(state=v1.state, router=gateway.router, **both)
    return http, rest


def _websocket_plane(
    gateway: Gateway,
    services: dict[str, Service],
    settings: Settings,
    authorizer: Authorizer,
    sink: LogSink,
    metrics: MetricsRecorder,
) -> WebSocketPlane:
    """WebSocket APIs' connections and @connections: functions invoked as API Gateway (the
    function's policy or the integration's role decides, as for any service's delivery), API
    keys from the REST control plane's keys and usage plans."""
    v2, iam, rest = services["apigatewayv2"], services["iam"], services["apigateway"]
    assert isinstance(v2, ApiGatewayV2Service) and isinstance(iam, IamService) and isinstance(rest, ApiGatewayService)
    gate = DeliveryGate(authorizer, iam.role)
    invoker = Functions.for_plane(gateway.call_here, gate.check, authorizer, settings.endpoint_url)

    def websocket_api(api_id: str) -> tuple[str, str, frozenset[str]] | None:
        served = v2.state.serving(api_id)
        if served is None or served.protocol_type != "WEBSOCKET":
            return None
        return served.account, served.region, frozenset(served.stages)

    rest.state.other_apis = websocket_api  # usage plans cover WebSocket APIs' stages too

    async def api_keys(account: str, region: str, api_id: str, stage: str, value: str) -> str | None:
        grant = rest.state.grant(api_id, stage, value)
        return grant.key_id if grant is not None and grant.enabled and grant.plan_id else None

    return build_plane(
        v2.state,
        invoker,
        gateway.verifier,
        authorizer,
        endpoint_url=settings.endpoint_url,
        idle_timeout_s=settings.websocket_idle_timeout_s,
        max_duration_s=settings.websocket_max_duration_s,
        api_keys=api_keys,
        metrics=metrics,
        sink=sink,
    )


def _services(
    settings: Settings,
    store: SQLiteStore,
    sink: LogSink,
    metrics: MetricsRecorder,
    engine: Engine,
    scheduler: Scheduler,
    code: CodeStore,
    keys: KeyRing,
    authorizer: Authorizer,
    sessions: ExecutionSessions,
) -> dict[str, Service]:
    destinations = Destinations()  # how one service delivers to another, by ARN
    sqs = SqsService(store)
    kinesis = KinesisService(
        store,
        KinesisConfig(
            settings.kinesis_shard_limit,
            settings.kinesis_hour_s,
            settings.kinesis_cache_records,
            settings.kinesis_cache_mb,
        ),
    )

    def make_async_queue(run: Run, finish: Finish) -> AsyncQueue:
        return AsyncQueue(
            store,
            run,
            finish=finish,
            per_function=settings.async_workers,
            total=settings.account_concurrency,
            limit_of=engine.reserved,
            retry_delays_s=settings.async_retry_delays_s,
            throttle_backoff_s=settings.async_throttle_backoff_s,
            pending_logs=sink.take,
        )

    efs = EfsService(store, os.path.abspath(settings.data_dir))
    limits = Limits(sync_payload_bytes=settings.sync_payload_bytes, async_payload_bytes=settings.async_payload_bytes)
    lambda_ = LambdaService(
        LambdaState(store, code, engine, limits),
        destinations,
        lambda arn: sqs.queue_source(arn) or kinesis.stream_source(arn),
        make_async_queue,
    )
    # Lambda and SQS subscriptions: AWS's schedule for managed endpoints unless set.
    sns_retries = RetryPolicy.fixed(settings.sns_retry_delays_s) if settings.sns_retry_delays_s else None
    # SNS signs its messages with the data dir's key (made there on the first start).
    signer = Signer.from_dir(os.path.abspath(settings.data_dir))
    sns = SnsService(store, destinations, settings.endpoint_url, retry_policy=sns_retries, signer=signer)
    # Who is who: IAM users' keys sign requests, STS assumes IAM's roles, and every call by
    # a principal other than its account's root is authorized against IAM's policies.
    iam = IamService(store)
    keys.user_keys = iam.access_key
    authorizer.policies_of = iam.identity_policies
    authorizer.managed_policy = iam.managed_policy
    authorizer.entity_arn = iam.entity_arn
    authorizer.generation = lambda: iam.generation
    sessions.roles = iam.role

    def role_assumable(account: str, arn: str) -> bool:
        role = iam.role(account, arn)
        return role is not None and authorizer.service_may_assume("lambda.amazonaws.com", role)

    lambda_.state.role_assumable = role_assumable
    # FileSystemConfigs: EFS's access points, mounted as its file system policy allows.
    lambda_.state.access_point_exists = efs.mounting.exists
    lambda_.state.mount_file_system = efs.mounting.mount

    # Deliveries by a service (SNS, EventBridge, Scheduler) pass the target's resource policy
    # or the role they act through first.
    gate = DeliveryGate(authorizer, iam.role)
    destinations.gate = gate.check
    # An event source mapping reads its queue or stream as the function's execution role.
    lambda_.state.role_denies = gate.first_denied
    efs.mounting.role_denies = gate.first_denied  # ClientMount/ClientWrite the file system policy leaves open

    async def may(ctx, action: str, resource: str) -> str | None:
        caller = ctx.principal or root(ctx.account_id)
        return await authorizer.denial(caller, action.split(":", 1)[0], action, resource, ctx.account_id, {})

    lambda_.state.may = may  # another account's layers in a function's Layers

    sts = StsService(
        keys,
        roles=iam.role,
        authorize=authorizer.may_assume,
        providers=iam.oidc_provider,
        trusts_federated=trusts_federated,
    )

    async def function_exists(arn: str) -> bool:
        return await lambda_.resource_policy(arn) is not None

    # Logs: metric filters feed the recorder, subscription filters deliver to functions and
    # streams; the sink shows it every function line as it is emitted.
    logs = LogsService(store, sink, destinations, metrics, function_exists)
    s3 = S3Service(store, os.path.join(os.path.abspath(settings.data_dir), "s3"))
    # S3's calls are decided by the authorizer with the buckets' owners and policies
    # (access/s3.py), another account's included; lifecycle sweeps run on the scheduler.
    authorizer.s3 = S3Access(authorizer, s3)
    s3.state.authorized = True
    s3.lifecycle.use(scheduler, settings.s3_lifecycle_interval_s)

    async def s3_may_deliver(arn: str, options: dict) -> str | None:
        """A bucket's notification destination, as S3 checks it: "missing", "denied" or None."""
        lookup = authorizer.resource_policies.get(arn.split(":")[2] if arn.count(":") >= 5 else "")
        if lookup is None or await lookup(arn) is None:
            return "missing"
        try:
            await gate.check(arn, options)
        except ServiceError:
            return "denied"
        return None

    # Each committed object change is matched against its bucket's notification configuration.
    s3.notifications.wire(destinations.send, s3_may_deliver, settings.events_retry_base_s)
    s3.events = s3.notifications.on_event

    async def code_from_s3(ctx, bucket: str, key: str, version_id: str | None, limit: int) -> bytes:
        """Lambda's code and layers from S3, read as the caller (s3:GetObject decided as S3 would)."""
        caller = ctx.principal or root(ctx.account_id)
        owner = s3_fetch.owner(s3.state, bucket) or ctx.account_id
        if await authorizer.denial(caller, "s3", "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", owner, {}):
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return await s3_fetch.read_whole(s3.state, s3.files, bucket, key, version_id, ctx.region, limit)

    code.fetch_s3 = code_from_s3
    sink.observer = logs.ingest.observe
    services: list[Service] = [
        sqs,
        kinesis,
        efs,
        lambda_,
        logs,
        CloudWatchService(metrics, destinations, scheduler),
        sns,
        s3,
        EventsService(store, destinations, scheduler, retry_base_s=settings.events_retry_base_s),
        SchedulerService(store, destinations, scheduler),
        iam,
        sts,
        AutoScalingService(store, scheduler, metrics),
        ApiGatewayV2Service(store),
        ApiGatewayService(store),
    ]
    # Each service's resource policies (functions', queues', topics'...), read by the
    # authorizer for every call not made by the resource's own account root.
    for service in services:
        resource_policy = getattr(service, "resource_policy", None)
        if resource_policy is not None:
            authorizer.resource_policies[service.service_name] = resource_policy
        resource_tags = getattr(service, "resource_tags", None)
        if resource_tags is not None:
            authorizer.resource_tags[service.service_name] = resource_tags
    destinations.register("lambda", lambda_.deliver_to_function)
    destinations.register("sqs", sqs.deliver)
    destinations.register("sns", sns.deliver)
    destinations.register("kinesis", kinesis.deliver)
    destinations.register("logs", logs.deliver)
    return {service.service_name: service for service in services}
