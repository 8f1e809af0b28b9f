"""Which API a call of execute-api is for (http/execute_api/addresses.py): by Host or by path."""

from __future__ import annotations

from lamina.http.execute_api import address
from lamina.protocol.messages import Request


def request(path: str, host: str, raw_path: str | None = None) -> Request:
    return Request("GET", path, raw_path or path, "", {"host": host})


def test_by_host_with_or_without_a_port():
    for host in ("abc123defg.execute-api.localhost:4566", "abc123defg.execute-api.localhost"):
        where = address(request("/prod/items/1", host))
        assert where is not None
        assert (where.api_id, where.path, where.host) == (
            "abc123defg",
            "/prod/items/1",
            "abc123defg.execute-api.localhost",
        )


def test_by_path_for_clients_that_cannot_set_the_host():
    where = address(
        request("/_aws/execute-api/abc123defg/prod/a b", "localhost:4566", "/_aws/execute-api/abc123defg/prod/a%20b")
    )
    assert where is not None
    assert (where.api_id, where.path, where.raw_path) == ("abc123defg", "/prod/a b", "/prod/a%20b")
    root = address(request("/_aws/execute-api/abc123defg", "localhost:4566"))
    assert root is not None and root.path == "/"


def test_no_api_named():
    assert address(request("/2015-03-31/functions", "localhost:4566")) is None
    assert address(request("/", ".execute-api.localhost")) is None
    assert address(request("/_aws/execute-api/", "localhost")) is None
