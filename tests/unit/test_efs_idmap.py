"""The id maps of idmapped mounts (guest/isolation.py): the sandbox's id and the access
point's PosixUser swapped, every other id itself, in at most the kernel's 340 lines."""

from __future__ import annotations

import importlib.util
import os

import pytest

from lamina.engine.sandbox import guest


def _isolation():
    spec = importlib.util.spec_from_file_location(
        "_isolation_under_test", os.path.join(guest.DIRECTORY, "isolation.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parse(lines: str) -> list[tuple[int, int, int]]:
    return [tuple(int(part) for part in line.split()) for line in lines.strip().splitlines()]  # type: ignore[misc]


def _mapped(entries, inside: int) -> int | None:
    for start, outside, count in entries:
        if start <= inside < start + count:
            return outside + inside - start
    return None


@pytest.mark.parametrize("sandbox,user", [(65534, 1000), (65534, 0), (65534, 65535), (65534, 4294967294), (1, 0)])
def test_swap_exchanges_two_ids_and_keeps_the_rest(sandbox, user):
    isolation = _isolation()
    entries = _parse(isolation._swap(sandbox, user))
    assert len(entries) <= 5
    assert _mapped(entries, user) == sandbox and _mapped(entries, sandbox) == user
    for other in (0, 1, 999, 1001, 65533, 65535, 4294967294):
        if other not in (sandbox, user):
            assert _mapped(entries, other) == other
    # No two ranges overlap, on either side.
    for side in (0, 1):
        spans = sorted((entry[side], entry[side] + entry[2]) for entry in entries)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_the_same_id_is_the_identity():
    assert _parse(_isolation()._swap(65534, 65534)) == [(0, 0, 4294967295)]
