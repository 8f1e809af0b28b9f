"""Stream records: put, read a shard's range (after, before, limit, newest), trim, delete."""

import asyncio

import pytest

from lamina.store.base import DeleteStreamRecords, PutStreamRecords, StreamRecordRow, TrimStreamRecords


def seqs(rows):
    return [row.seq for row in rows]


async def test_append_read_by_shard_trim_and_delete(backend):
    async with backend.store() as store:
        rows = [StreamRecordRow("s1", f"shard-{i % 2}", 100 + i, f"k{i}", bytes([i])) for i in range(10)]
        await asyncio.gather(
            store.write([PutStreamRecords(rows[:5])]),
            store.write([PutStreamRecords(rows[5:])]),
            store.write([PutStreamRecords([StreamRecordRow("s2", "shard-0", 1, "x", b"")])]),
        )
        even = await store.read_stream_records("s1", "shard-0")
        assert seqs(even) == [100, 102, 104, 106, 108] and even[1] == rows[2]
        assert seqs(await store.read_stream_records("s1", "shard-0", after_seq=102, limit=2)) == [104, 106]
        assert seqs(await store.read_stream_records("s1", "shard-0", before_seq=104)) == [100, 102]
        assert seqs(await store.read_stream_records("s1", "shard-0", limit=2, newest=True)) == [106, 108]
        await store.write([TrimStreamRecords("s1", "shard-0", 105)])
        assert seqs(await store.read_stream_records("s1", "shard-0")) == [106, 108]
        assert len(await store.read_stream_records("s1", "shard-1")) == 5  # another shard is untouched
        await store.write([DeleteStreamRecords("s1")])
        assert await store.read_stream_records("s1", "shard-1") == []
        assert await store.read_stream_records("s1", "shard-0") == []
        assert len(await store.read_stream_records("s2", "shard-0")) == 1  # another stream is untouched


async def test_ranges_after_and_before_together_and_newest(backend):
    async with backend.store() as store:
        await store.write([PutStreamRecords(tuple(StreamRecordRow("s", "a", seq, "k", b"") for seq in range(1, 21)))])
        assert seqs(await store.read_stream_records("s", "a", after_seq=5, before_seq=9)) == [6, 7, 8]
        assert seqs(await store.read_stream_records("s", "a", after_seq=5, before_seq=9, newest=True, limit=2)) == [
            7,
            8,
        ]
        assert seqs(await store.read_stream_records("s", "a", after_seq=17, newest=True, limit=10)) == [18, 19, 20]
        assert seqs(await store.read_stream_records("s", "a", before_seq=4, newest=True, limit=2)) == [2, 3]
        assert seqs(await store.read_stream_records("s", "a", limit=3)) == [1, 2, 3]
        assert await store.read_stream_records("s", "a", after_seq=20) == []
        assert await store.read_stream_records("s", "a", after_seq=5, before_seq=6) == []
        assert await store.read_stream_records("s", "b") == []
        assert await store.read_stream_records("t", "a") == []
        assert len(await store.read_stream_records("s", "a")) == 20  # limit 10,000 by default


async def test_records_come_back_byte_for_byte(backend):
    big = bytes(range(256)) * 4096  # 1 MiB, every byte value
    rows = (
        StreamRecordRow("s", "a", 1, "é ✓ \U0001f600", big),
        StreamRecordRow("s", "a", 2, "", b""),
        StreamRecordRow("s", "a", 3, "k", b"\x00\xff\x00"),
    )
    async with backend.store() as store:
        await store.write([PutStreamRecords(rows)])
        got = await store.read_stream_records("s", "a")
        assert got == list(rows)
        assert all(isinstance(row, StreamRecordRow) and type(row.data) is bytes for row in got)


async def test_a_record_is_written_once(backend):
    async with backend.store() as store:
        first = StreamRecordRow("s", "a", 1, "k", b"first")
        await store.write([PutStreamRecords((first,))])
        with pytest.raises(Exception):  # noqa: B017 - the store contract names no error type for a failed batch
            await store.write(
                [
                    PutStreamRecords(
                        (StreamRecordRow("s", "a", 2, "k", b""), StreamRecordRow("s", "a", 1, "k", b"again"))
                    )
                ]
            )
        assert await store.read_stream_records("s", "a") == [first]  # nothing of the failed batch
        await store.write(
            [
                PutStreamRecords(
                    (
                        StreamRecordRow("s", "b", 1, "k", b"other shard"),
                        StreamRecordRow("t", "a", 1, "k", b"other stream"),
                    )
                )
            ]
        )


async def test_trim_keeps_from_a_position_on(backend):
    async with backend.store() as store:
        await store.write([PutStreamRecords(tuple(StreamRecordRow("s", "a", seq, "k", b"") for seq in (1, 2, 3)))])
        await store.write([TrimStreamRecords("s", "a", 2)])  # before 2: 1 goes, 2 stays
        assert seqs(await store.read_stream_records("s", "a")) == [2, 3]
        await store.write([TrimStreamRecords("s", "a", 1)])
        assert seqs(await store.read_stream_records("s", "a")) == [2, 3]
        await store.write([TrimStreamRecords("s", "a", 100)])
        assert await store.read_stream_records("s", "a") == []
