"""What every service is to the composition root: a named plug-in with a lifecycle.

A service is a class whose async methods are named after its operations in snake_case;
each takes the parsed request dict and the RequestContext and returns the response dict
(the gateway finds them by name). Beside those, it has:

    service_name   the botocore service name the gateway routes to it ("sqs", "lambda", ...)
    start()        rebuild its in-memory truth from the store and resume accepted work
                   (deliveries, pollers, timers); called once, in the order of app.SERVICES,
                   before the first request
    stop()         stop its background work; called in the reverse order, before the
                   store closes (and before a reset). Whatever it had accepted is already
                   in the store.
    reset()        Lamina's reset (POST /_lamina/reset), called after stop() and before
                   start() again: forget everything held in memory (resources, caches,
                   timers it armed in the engine's Scheduler, files it keeps) and be as
                   just constructed, so that start() rebuilds from the store, which the
                   composition root empties in between. Requests are held meanwhile.

A service never imports another service: it reaches one through the destinations
registry or a callable the composition root hands it.
"""

from __future__ import annotations

from typing import Any, Protocol


class Service(Protocol):
    service_name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def reset(self) -> None: ...


class StateService:
    """What a service whose whole truth is one owner (`state`, with `load()` and `reset()`)
    and that runs nothing in the background needs of the lifecycle above."""

    state: Any

    async def start(self) -> None:
        await self.state.load()

    async def stop(self) -> None:
        pass

    async def reset(self) -> None:
        self.state.reset()
