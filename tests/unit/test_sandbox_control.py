"""The engine's end of a sandbox's control socket (managed.Control): frames as they arrive,
whole, in pieces or several in one read, handed out in order; a closed socket fails the wait."""

from __future__ import annotations

import asyncio

import pytest

from lamina.engine.sandbox.guest import frames
from lamina.engine.sandbox.managed import Control


def test_frames_in_any_pieces_come_out_whole_and_in_order():
    async def scenario() -> None:
        control = Control()
        big = b"x" * 3_000_000
        data = (
            frames.pack(frames.RESULT, b'{"a": 1}', b"small")
            + frames.pack(frames.RESULT, b"{}", big)
            + frames.pack(frames.ERROR, b"{}", b"e")
        )
        first = control.next_frame()  # waiting before anything arrived
        at = 0
        for size in [3, 4, 20, 65536] * 100:
            control.data_received(data[at : at + size])
            at += size
        control.data_received(data[at:])
        assert await first == (frames.RESULT, b'{"a": 1}\nsmall')
        assert await control.next_frame() == (frames.RESULT, b"{}\n" + big)
        assert await control.next_frame() == (frames.ERROR, b"{}\ne")

        together = Control()
        together.data_received(frames.pack(frames.RESULT, b"a", b"b") + frames.pack(frames.READY, b"c"))
        assert await together.next_frame() == (frames.RESULT, b"a\nb")
        assert await together.next_frame() == (frames.READY, b"c\n")

    asyncio.run(scenario())


def test_a_closed_socket_fails_the_wait_and_every_later_one():
    async def scenario() -> None:
        control = Control()
        waiting = control.next_frame()
        control.data_received(frames.pack(frames.RESULT, b"{}", b"cut short")[:10])
        control.connection_lost(None)
        with pytest.raises(ConnectionResetError):
            await waiting
        with pytest.raises(ConnectionResetError):
            await control.next_frame()

    asyncio.run(scenario())


def test_a_frame_that_arrived_before_the_close_is_still_read():
    async def scenario() -> None:
        control = Control()
        control.data_received(frames.pack(frames.RESULT, b"{}", b"done"))
        control.connection_lost(None)
        assert await control.next_frame() == (frames.RESULT, b"{}\ndone")
        with pytest.raises(ConnectionResetError):
            await control.next_frame()

    asyncio.run(scenario())
