"""Documents: the control-plane records (functions, versions, aliases, log groups, queues'
attributes, checkpoints, ...). A document is a JSON object filed under (kind, key).

What a backend must honour:
- A document is stored as JSON and read back as the JSON round trip of what was written
  (tuples come back as lists; a value JSON cannot hold is written as its str()). `get`
  hands out a fresh object each time: changing it changes nothing stored.
- Keys are ordered by Unicode code point (the same as the byte order of their UTF-8),
  whatever the database's locale: "B" < "a" < "z" < "é". `scan` and `DeletePrefix`
  work in that order.
- `Put` replaces the whole document under its key, or creates it; `Delete` of a key that
  is not there, and `DeletePrefix` that matches nothing, are no-ops, not errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Put:
    """Store `doc` under (kind, key), replacing what was there."""

    kind: str
    key: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    """Remove the document under (kind, key), if there is one."""

    kind: str
    key: str


@dataclass(frozen=True)
class DeletePrefix:
    """Remove every document of `kind` whose key starts with `prefix`."""

    kind: str
    prefix: str


class DocumentStore(Protocol):
    """Reads of documents. Writes are Put, Delete and DeletePrefix given to Store.write."""

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The document under (kind, key), or None."""
        ...

    async def scan(
        self, kind: str, prefix: str = "", after: str | None = None, limit: int | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(key, document) of `kind` whose key starts with `prefix` and is greater than
        `after` (a paging cursor: the last key of the previous page; it need not start with
        the prefix), in key order, at most `limit` of them (None: all)."""
        ...
