"""AWS Lambda's control and invoke API, one module per group of operations:

    functions.py     Create/Get/List/Update/DeleteFunction
    versions.py      PublishVersion, ListVersionsByFunction; publish() for Create/Update with Publish
    aliases.py       Create/Get/Update/Delete/ListAliases
    concurrency.py   Put/Get/DeleteFunctionConcurrency (reserved concurrency)
    provisioned.py   Put/Get/Delete/ListProvisionedConcurrencyConfig(s), and keeping the
                     engine's provisioned instances in step when versions and aliases change
    mappings.py      Create/Get/Update/Delete/ListEventSourceMappings
    pollers.py       running the mappings: one engine poller per enabled mapping
    invoke.py        Invoke, InvokeAsync
    streaming.py     InvokeWithResponseStream, and the streamed invocation URLs share
    function_urls.py Create/Get/Update/Delete/ListFunctionUrlConfig(s); finding a URL by its id
    url_invoke.py    the invocations a function URL asks for (http/function_urls.py)
    async_events.py  accepted async events: enqueueing, each attempt, destinations, DLQ
    event_invoke.py  Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s)
    layers.py        PublishLayerVersion & co, and resolving a function's layers
    layer_permissions.py  Add/RemoveLayerVersionPermission, GetLayerVersionPolicy
    tags.py          Tag/Untag/ListTags
    account.py       GetAccountSettings
    code_signing.py  code signing configs, a function's, and the check of a deployment
    runtime_settings.py  Put/GetFunctionRecursionConfig, Put/GetRuntimeManagementConfig
    state.py         the records, their store layout, and the lookups every group shares
    code.py          zip packages: checked, stored by content, extracted
    arns.py          names, ARNs and qualifiers
    paging.py        Marker and MaxItems

Each *Api class holds operations only (named as botocore names them, in snake_case, taking
(params, ctx)); LambdaService composes them, and the gateway finds them on it by name.
What one group needs of another is a plain function of the module it belongs to, taking
the state (or a small dataclass around it: provisioned.Provisioning, pollers.Pollers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial

from ...engine.delivery.async_queue import AsyncQueue, Finish, Run
from ...engine.delivery.destinations import Destinations
from . import async_events, pollers
from .account import AccountApi
from .aliases import AliasesApi
from .code_signing import CodeSigningApi
from .concurrency import ConcurrencyApi
from .event_invoke import EventInvokeConfigApi
from .function_urls import FunctionUrlsApi, UrlIndex
from .functions import FunctionsApi
from .invoke import InvokeApi
from .layer_permissions import LayerPermissionsApi
from .layers import LayersApi
from .mappings import MappingsApi
from .permissions import PermissionsApi
from .pollers import Pollers, Sources
from .provisioned import ProvisionedApi, Provisioning, restore_provisioned
from .runtime_settings import RuntimeSettingsApi
from .state import LambdaState, settled
from .streaming import StreamingApi
from .tags import TagsApi
from .url_invoke import UrlInvokeApi
from .versions import VersionsApi

log = logging.getLogger("lamina")

MakeAsyncQueue = Callable[[Run, Finish], AsyncQueue]


class LambdaService(
    FunctionsApi,
    VersionsApi,
    AliasesApi,
    InvokeApi,
    StreamingApi,
    FunctionUrlsApi,
    UrlInvokeApi,
    EventInvokeConfigApi,
    ConcurrencyApi,
    ProvisionedApi,
    MappingsApi,
    LayersApi,
    LayerPermissionsApi,
    TagsApi,
    PermissionsApi,
    AccountApi,
    CodeSigningApi,
    RuntimeSettingsApi,
):
    service_name = "lambda"

    def __init__(
        self, state: LambdaState, destinations: Destinations, sources: Sources, make_async_queue: MakeAsyncQueue
    ) -> None:
        """`sources`: event source ARN -> what a mapping polls (the queues' and streams' owners).
        `make_async_queue(run, finish)`: the async queue, built around this service's two
        callbacks (the composition root closes over the queue's settings)."""
        self.state = state
        self.destinations = destinations
        self.provisioning = Provisioning(state)
        self.urls = UrlIndex(state)
        self.pollers = Pollers(state, destinations, sources)
        self._make_async_queue = make_async_queue
        self.async_queue = self._new_async_queue()

    def _new_async_queue(self) -> AsyncQueue:
        # The queue calls the async_events functions straight (partial adds no Python frame
        # per event, a method passing them on would).
        return self._make_async_queue(
            partial(async_events.run, self.state), partial(async_events.finish, self.state, self.destinations)
        )

    async def start(self) -> None:
        """Hand the engine what it must know before the first invoke (reservations and
        provisioned configs), resume the mappings' pollers, then the queued async events."""
        runtimes = set()
        for key, function in await self.state.store.scan("function"):
            runtimes.add(function["config"].get("Runtime"))
            if not settled(function["config"]):  # stopped while preparing it: again
                self.state.prepare_soon(
                    "function", key, function.get("build", ""), updating="LastUpdateStatus" in function["config"]
                )
            if function.get("reserved_concurrency") is not None:
                self.state.engine.set_reserved(function["config"]["FunctionArn"], function["reserved_concurrency"])
        for key, version in await self.state.store.scan("function_version"):
            if not settled(version["config"]):
                self.state.prepare_soon("function_version", key, version.get("build", ""))
        for runtime in sorted(r for r in runtimes if r):
            self.state.engine.prepare(runtime)  # their zygotes start now, not on a first cold start
        await restore_provisioned(self.provisioning)
        await pollers.start_all(self.pollers)
        recovered = await self.async_queue.start()
        if recovered:
            log.info("recovered %d queued async invocations", recovered)

    async def stop(self) -> None:
        """Stop polling (batches in hand get a moment to finish), then the async queue."""
        await pollers.stop_all(self.pollers)
        await self.async_queue.close()

    async def reset(self) -> None:
        """After stop() and the engine's reset: no record cached, no lock, an empty async
        queue in place of the closed one, and no code package on disk."""
        self.state.reset()
        self.urls.reset()
        self.provisioning.config_locks.clear()
        self.provisioning.version_locks.clear()
        self.pollers.running.clear()
        self.async_queue = self._new_async_queue()
        await asyncio.to_thread(self.state.code.clear)

    # --- the destinations registry's callback ---------------------------------------------

    async def deliver_to_function(self, arn: str, body: bytes, attributes: dict[str, str], **options) -> None:
        """A Lambda function as a destination (registered as "lambda" with Destinations). An
        AWS service's delivery has passed Destinations' gate (the function's policy) already."""
        await async_events.deliver_to_function(self.state, self.async_queue, arn, body)
