"""FIFO deduplication windows: lookups within the window, pruning oldest first, and the
store round trip that lets a window outlive a restart."""

import asyncio

from lamina.engine.delivery.dedup import DedupWindow, load_windows
from lamina.store.base import Delete, Put
from lamina.store.sqlite import SQLiteStore


def test_an_id_names_its_first_message_within_the_window_only():
    window = DedupWindow("q_dedup", "q", window_ms=1000)
    window.remember("a", 0, "m-a", "1")
    assert window.find("a", 999) == ("m-a", "1")
    assert window.find("a", 1000) is None
    assert window.find("b", 0) is None


def test_prune_forgets_the_expired_ids_oldest_first_and_says_what_to_delete():
    window = DedupWindow("q_dedup", "q", window_ms=1000)
    window.remember("a", 0, "m-a", None)
    window.remember("b", 500, "m-b", None)
    window.remember("a", 600, "m-a2", None)  # seen again after expiring: now the newest
    assert window.prune(1100) == []  # the first "a" was replaced, not left to expire
    assert window.prune(1550) == [Delete("q_dedup", "q|b")]
    assert window.find("a", 1550) == ("m-a2", None)
    assert window.prune(1600) == [Delete("q_dedup", "q|a")]
    assert len(window) == 0


def test_windows_come_back_from_the_store_and_stale_documents_go(tmp_path):
    async def main():
        store = SQLiteStore(str(tmp_path / "lamina.db"))
        first = DedupWindow("q_dedup", "q1", window_ms=60_000)
        first.remember("x|y", 1000, "m1", "s1")  # ids may hold the separator
        await store.write(
            [
                first.op("x|y"),
                Put("q_dedup", "q1|old", {"expires": 5, "id": "m0"}),
                Put("q_dedup", "gone-queue|z", {"expires": 10**15, "id": "m9"}),
            ]
        )
        again = DedupWindow("q_dedup", "q1")
        await load_windows(store, "q_dedup", {"q1": again}, now_ms=2000)
        assert again.find("x|y", 2000) == ("m1", "s1")
        assert again.find("old", 2000) is None
        assert [key for key, _ in await store.scan("q_dedup")] == ["q1|x|y"]
        await store.close()

    asyncio.run(main())
