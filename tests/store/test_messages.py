"""Queued messages: put, mark received, delete some or all, read one queue or every queue."""

import json

from lamina.store.base import DeleteMessages, MarkReceived, PutMessages, QueuedMessage


def message(queue, seq, **fields):
    return QueuedMessage(
        queue, seq, {"id": f"{queue}-{seq}", "body": f"body {seq}", **fields}, visible_at=1000 + seq, receives=0
    )


async def test_put_and_read_per_queue_and_all(backend):
    async with backend.store() as store:
        await store.write([PutMessages((message("q2", 1), message("q1", 3), message("q1", 1)))])
        await store.write([PutMessages((message("q1", 2),))])
        assert await store.read_messages("q1") == [message("q1", 1), message("q1", 2), message("q1", 3)]
        assert [(m.queue, m.seq) for m in await store.read_messages()] == [("q1", 1), ("q1", 2), ("q1", 3), ("q2", 1)]
        assert await store.read_messages("q3") == []


async def test_a_message_comes_back_as_its_json_round_trip(backend):
    body = {
        "id": "m",
        "body": 'é ✓ \U0001f600 "quoted"\n',
        "attributes": {"n": [1, 2.5, None, True]},
        "group": ("g", 1),
    }
    async with backend.store() as store:
        await store.write([PutMessages((QueuedMessage("q", 7, body, visible_at=2**41, receives=3),))])
        (stored,) = await store.read_messages("q")
        assert stored == QueuedMessage("q", 7, json.loads(json.dumps(body)), visible_at=2**41, receives=3)


async def test_put_replaces_a_message_that_is_there(backend):
    async with backend.store() as store:
        await store.write([PutMessages((message("q", 1),))])
        replaced = QueuedMessage("q", 1, {"id": "new"}, visible_at=5, receives=2)
        await store.write([PutMessages((replaced,))])
        assert await store.read_messages("q") == [replaced]


async def test_mark_received_changes_visibility_and_receives_of_messages_still_there(backend):
    async with backend.store() as store:
        await store.write([PutMessages((message("q", 1), message("q", 2), message("other", 1)))])
        await store.write([DeleteMessages("q", (2,))])
        await store.write([MarkReceived("q", ((1, 9000, 1), (2, 9000, 1), (3, 9000, 1)))])  # 2 and 3 are gone
        assert await store.read_messages("q") == [QueuedMessage("q", 1, message("q", 1).message, 9000, 1)]
        await store.write([MarkReceived("q", ((1, 12000, 2),))])
        (again,) = await store.read_messages("q")
        assert (again.visible_at, again.receives, again.message) == (12000, 2, message("q", 1).message)
        assert await store.read_messages("other") == [message("other", 1)]  # same seq, another queue


async def test_delete_some_then_all(backend):
    async with backend.store() as store:
        await store.write([PutMessages(tuple(message("q", seq) for seq in range(1, 6)) + (message("keep", 1),))])
        await store.write([DeleteMessages("q", (2, 4, 99))])  # 99 was never there
        assert [m.seq for m in await store.read_messages("q")] == [1, 3, 5]
        await store.write([DeleteMessages("q", ())])
        assert [m.seq for m in await store.read_messages("q")] == [1, 3, 5]
        await store.write([DeleteMessages("q")])
        assert await store.read_messages("q") == []
        assert await store.read_messages() == [message("keep", 1)]


async def test_a_message_put_received_and_deleted_in_one_batch(backend):
    async with backend.store() as store:
        await store.write(
            [
                PutMessages((message("q", 1), message("q", 2))),
                MarkReceived("q", ((1, 50, 1),)),
                DeleteMessages("q", (2,)),
            ]
        )
        assert await store.read_messages("q") == [QueuedMessage("q", 1, message("q", 1).message, 50, 1)]
