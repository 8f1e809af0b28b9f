"""AWS Lambda's control and invoke API, one module per group of operations:

    functions.py  Create/Get/List/Update/DeleteFunction
    versions.py   PublishVersion, ListVersionsByFunction
    aliases.py    Create/Get/Update/Delete/ListAliases
    concurrency.py  Put/Get/DeleteFunctionConcurrency (reserved concurrency)
    provisioned.py  Put/Get/Delete/ListProvisionedConcurrencyConfig(s)
    mappings.py   event source mappings (SQS now) and their pollers
    invoke.py     Invoke, InvokeAsync
    async_events.py  running accepted async events: attempts, destinations, DLQ
    event_invoke.py  Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s)
    layers.py     PublishLayerVersion & co, and resolving a function's layers
    tags.py       Tag/Untag/ListTags
    account.py    GetAccountSettings
    state.py      the records, their store layout, and shared lookups
    code.py       zip packages: checked, stored by content, extracted
    arns.py       names, ARNs and qualifiers
"""
from __future__ import annotations

from ...engine.delivery.async_queue import AsyncQueue
from ...engine.delivery.destinations import Destinations
from .account import AccountApi
from .aliases import AliasesApi
from .async_events import AsyncEventsApi
from .concurrency import ConcurrencyApi
from .functions import FunctionsApi
from .event_invoke import EventInvokeConfigApi
from .invoke import InvokeApi
from .layers import LayersApi
from .mappings import MappingsApi, Sources
from .provisioned import ProvisionedApi
from .state import LambdaState
from .tags import TagsApi
from .versions import VersionsApi


class LambdaService(FunctionsApi, VersionsApi, AliasesApi, InvokeApi, AsyncEventsApi, EventInvokeConfigApi,
                    ConcurrencyApi, ProvisionedApi, MappingsApi, LayersApi, TagsApi, AccountApi):
    service_name = "lambda"

    def __init__(self, state: LambdaState, destinations: Destinations, sources: Sources = lambda arn: None) -> None:
        self.state = state
        self.destinations = destinations
        self.sources = sources  # event source ARN -> what a mapping polls (app.py wires the queues)
        self.pollers: dict = {}
        self.async_queue: AsyncQueue | None = None  # wired by app.py (the queue calls us back)

    async def start(self) -> None:
        """Hand the engine what it must know before the first invoke: reservations."""
        for _, function in await self.state.store.scan("function"):
            if function.get("reserved_concurrency") is not None:
                self.state.engine.set_reserved(function["config"]["FunctionArn"], function["reserved_concurrency"])
        await self.restore_provisioned()
        await self.start_mappings()
