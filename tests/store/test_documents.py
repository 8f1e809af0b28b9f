"""Documents: put, get, scan (order, prefix, after, limit), delete, delete prefix."""

import json

from lamina.store.base import Delete, DeletePrefix, Put


def keys(rows):
    return [key for key, _ in rows]


async def test_put_get_replace_and_a_missing_key(backend):
    async with backend.store() as store:
        await store.write([Put("fn", "a", {"n": 1}), Put("alias", "a", {"n": 2})])
        assert await store.get("fn", "a") == {"n": 1}
        assert await store.get("alias", "a") == {"n": 2}  # kinds are independent
        assert await store.get("fn", "zzz") is None
        assert await store.get("nothing", "a") is None
        await store.write([Put("fn", "a", {"m": 3})])
        assert await store.get("fn", "a") == {"m": 3}  # replaced whole, not merged


async def test_a_document_comes_back_as_its_json_round_trip(backend):
    doc = {
        "s": "é ✓ \U0001f600",
        "i": 2**53,
        "f": 0.1,
        "t": True,
        "none": None,
        "list": [1, [2, {"x": 3}]],
        "tuple": (1, 2),
        "empty": {},
        "quote": 'a "b" \\ c\n',
    }
    async with backend.store() as store:
        await store.write([Put("k", "doc", doc)])
        got = await store.get("k", "doc")
        assert got == json.loads(json.dumps(doc))
        got["s"] = "changed"  # a fresh object: changing it changes nothing stored
        assert (await store.get("k", "doc"))["s"] == doc["s"]
        assert await store.scan("k") == [("doc", json.loads(json.dumps(doc)))]


async def test_scan_is_in_key_order_by_code_point(backend):
    names = ["é", "z", "a", "B", "a:2", "a:10", "", "a:1", "Z", "\u00ff", "\u4e2d", "\U0001f600", "a\x00"]
    async with backend.store() as store:
        await store.write([Put("k", name, {"name": name}) for name in names])
        await store.write([Put("other", "m", {})])
        rows = await store.scan("k")
        assert keys(rows) == sorted(names)
        assert all(doc == {"name": key} for key, doc in rows)


async def test_scan_by_prefix_after_and_limit(backend):
    async with backend.store() as store:
        await store.write([Put("fn", key, {"key": key}) for key in ("a:1", "a:2", "a:3", "ab", "b:1", "a")])
        assert keys(await store.scan("fn", prefix="a:")) == ["a:1", "a:2", "a:3"]
        assert keys(await store.scan("fn", prefix="a")) == ["a", "a:1", "a:2", "a:3", "ab"]
        assert keys(await store.scan("fn", prefix="c")) == []
        assert keys(await store.scan("fn", after="a:1", limit=1)) == ["a:2"]
        assert keys(await store.scan("fn", prefix="a:", after="a:2")) == ["a:3"]
        assert keys(await store.scan("fn", prefix="a:", after="0")) == ["a:1", "a:2", "a:3"]  # after: any key
        assert keys(await store.scan("fn", prefix="a:", after="b")) == []
        assert keys(await store.scan("fn", limit=2)) == ["a", "a:1"]
        assert keys(await store.scan("fn", limit=0)) == []
        assert keys(await store.scan("fn", limit=100)) == ["a", "a:1", "a:2", "a:3", "ab", "b:1"]


async def test_paging_through_a_kind_with_after(backend):
    names = [f"{i:04d}" for i in range(250)]
    async with backend.store() as store:
        await store.write([Put("page", name, {}) for name in names])
        seen, after = [], None
        while True:
            page = keys(await store.scan("page", after=after, limit=100))
            if not page:
                break
            seen += page
            after = page[-1]
        assert seen == names


async def test_delete_and_delete_prefix(backend):
    async with backend.store() as store:
        await store.write([Put("fn", key, {}) for key in ("a:1", "a:2", "b:1", "b:2", "bb", "c")])
        await store.write([Put("alias", "b:1", {})])
        await store.write([Delete("fn", "a:1"), Delete("fn", "never there")])  # a missing key: no error
        assert await store.get("fn", "a:1") is None
        await store.write([DeletePrefix("fn", "b:")])
        assert keys(await store.scan("fn")) == ["a:2", "bb", "c"]
        assert keys(await store.scan("alias")) == ["b:1"]  # another kind is untouched
        await store.write([DeletePrefix("fn", "nothing")])
        assert keys(await store.scan("fn")) == ["a:2", "bb", "c"]
        await store.write([DeletePrefix("fn", "")])  # the empty prefix: the whole kind
        assert await store.scan("fn") == []
        assert keys(await store.scan("alias")) == ["b:1"]


async def test_the_operations_of_a_batch_take_effect_in_order(backend):
    async with backend.store() as store:
        await store.write([Put("k", "1", {"v": 1}), Delete("k", "1")])
        assert await store.get("k", "1") is None
        await store.write([Delete("k", "2"), Put("k", "2", {"v": 2})])
        assert await store.get("k", "2") == {"v": 2}
        await store.write([Put("k", "3", {"v": 1}), Put("k", "3", {"v": 2})])
        assert await store.get("k", "3") == {"v": 2}
        await store.write([Put("k", "p:1", {}), DeletePrefix("k", "p:"), Put("k", "p:2", {})])
        assert keys(await store.scan("k", prefix="p:")) == ["p:2"]
