"""Route keys: what CreateRoute accepts, and what a key means to the data plane.

HTTP APIs: `$default` (every request no other route takes), or `<METHOD> <path>` where
METHOD is ANY, GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS and the path is `/` or
`/`-separated segments; a segment is literal text, a path variable `{name}` (the whole
segment), or, last only, a greedy variable `{name+}` that takes the rest of the path.

WebSocket APIs: `$connect`, `$disconnect`, `$default`, or any custom key (the value the
route selection expression picks out of a message); no other key starts with `$`.

`select(routes, method, path)` is AWS's choice among the routes of an HTTP API: the most
specific match, segment by segment (a literal beats a variable, which beats a greedy
variable), an exact method before ANY, `$default` last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from ..api_gateway_errors import bad_request

HTTP_METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT = "$default"
WEBSOCKET_SPECIAL = ("$connect", "$disconnect", "$default")
# What a literal segment may hold (RFC 3986's pchar, percent escapes aside).
_LITERAL = re.compile(r"^[A-Za-z0-9\-._~:@!$&'()*+,;=]+$")
_VARIABLE = re.compile(r"^\{([A-Za-z0-9_.\-]+)(\+?)\}$")

LITERAL, VARIABLE, GREEDY = 0, 1, 2


@dataclass(frozen=True)
class Segment:
    kind: int  # LITERAL, VARIABLE or GREEDY
    text: str  # the literal text, or the variable's name (without braces and +)


@dataclass(frozen=True)
class RouteKey:
    text: str  # the key as given
    method: str | None  # None: $default, or a WebSocket key
    path: str | None
    segments: tuple[Segment, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.text == DEFAULT

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].kind == GREEDY

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if a request `method path` takes this route, else None
        ($default matches everything, with no parameters)."""
        if self.is_default:
            return {}
        if self.method is None or (self.method != "ANY" and self.method != method.upper()):
            return None
        parts = _split(path)
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == GREEDY:
                rest = parts[index:]
                if not rest:
                    return None
                params[segment.text] = "/".join(rest)
                return params
            if index >= len(parts):
                return None
            if segment.kind == LITERAL:
                if parts[index] != segment.text:
                    return None
            else:
                params[segment.text] = parts[index]
        return params if len(parts) == len(self.segments) else None

    def rank(self) -> tuple:
        """Smaller is more specific (see select)."""
        if self.is_default:
            return ((3,),)
        kinds = tuple(segment.kind for segment in self.segments)
        return (kinds + (-1,), 1 if self.method == "ANY" else 0)


def _split(path: str) -> list[str]:
    return [part for part in path.split("/")[1:]] if path not in ("", "/") else []


def _invalid_key(key: str):
    return bad_request(
        f"Unable to create route {key}. The route key must be $default or of the form "
        f"'<HTTP method> <path>', e.g. 'GET /pets'."
    )


def parse_http(key: str) -> RouteKey:
    """An HTTP API's route key, checked as AWS checks it (BadRequestException)."""
    if key == DEFAULT:
        return RouteKey(key, None, None)
    method, space, path = key.partition(" ")
    if not space or method not in HTTP_METHODS or " " in path or not path.startswith("/"):
        raise _invalid_key(key)
    if path == "/":
        return RouteKey(key, method, path)
    parts = path.split("/")[1:]
    segments: list[Segment] = []
    names: set[str] = set()
    for index, part in enumerate(parts):
        variable = _VARIABLE.match(part)
        if variable:
            name, plus = variable.groups()
            if plus and index != len(parts) - 1:
                raise bad_request(f"Invalid route key {key}. A greedy path variable must be the last part of the path.")
            if name in names:
                raise bad_request(f"Invalid route key {key}. Path variable {name} is used more than once.")
            names.add(name)
            segments.append(Segment(GREEDY if plus else VARIABLE, name))
        elif part and _LITERAL.match(part) and "{" not in part and "}" not in part:
            segments.append(Segment(LITERAL, part))
        else:
            raise bad_request("One or more path parts appear to be invalid")
    return RouteKey(key, method, path, tuple(segments))


def parse_websocket(key: str) -> RouteKey:
    if key.startswith("$") and key not in WEBSOCKET_SPECIAL:
        raise bad_request(
            f"Invalid route key {key}. Route keys starting with $ are reserved: $connect, $disconnect, $default."
        )
    return RouteKey(key, None, None)


def parse(protocol: str, key: str) -> RouteKey:
    return parse_websocket(key) if protocol == "WEBSOCKET" else parse_http(key)


T = TypeVar("T")


def select(routes: Iterable[tuple[RouteKey, T]], method: str, path: str) -> tuple[T, dict[str, str]] | None:
    """The route an HTTP API's request takes, with its path parameters, or None (404)."""
    best: tuple[tuple, T, dict[str, str]] | None = None
    for key, route in routes:
        params = key.match(method, path)
        if params is None:
            continue
        rank = key.rank()
        if best is None or rank < best[0]:
            best = (rank, route, params)
    return (best[1], best[2]) if best else None
