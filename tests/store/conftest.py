"""The store conformance suite: every test in tests/store runs against every backend.

The tests check the contract written in lamina/store/base.py and the modules beside it,
through the public interface only, never a backend's internals (those have tests of
their own, e.g. tests/unit/test_store_sqlite.py).

A backend joins by adding one entry to BACKENDS: its name and a context manager that,
given a fresh temporary directory, yields an `open` coroutine function. Each call of
`open` returns a new Store over the same data (opening again after a close is how the
suite restarts a store), and leaving the context manager throws the data away. A backend
whose server is not at hand skips from inside it. PostgreSQL's entry would be, roughly:

    @contextmanager
    def postgres(tmp_path):
        dsn = os.environ.get("LAMINA_TEST_POSTGRES") or pytest.skip("LAMINA_TEST_POSTGRES not set")
        schema = f"conformance_{uuid.uuid4().hex}"
        yield lambda: PostgresStore.open(dsn, schema=schema)
        drop_schema(dsn, schema)

Tests are `async def` functions (run below, each in a loop of its own) and take the
`backend` fixture: `async with backend.store() as store:` opens a store and closes it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import pytest

from lamina.store.base import Store
from lamina.store.sqlite import SQLiteStore


@contextmanager
def sqlite(tmp_path):
    path = str(tmp_path / "lamina.db")

    async def open_store() -> Store:
        return SQLiteStore(path)

    yield open_store


BACKENDS = {
    "sqlite": sqlite,
}


@dataclass
class Backend:
    name: str
    open: Callable[[], Awaitable[Store]]

    @asynccontextmanager
    async def store(self) -> AsyncIterator[Store]:
        store = await self.open()
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=list(BACKENDS))
def backend(request, tmp_path):
    with BACKENDS[request.param](tmp_path) as open_store:
        yield Backend(request.param, open_store)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run an `async def` test in a fresh event loop (no plugin needed)."""
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in inspect.signature(test).parameters}
    asyncio.run(test(**arguments))
    return True
