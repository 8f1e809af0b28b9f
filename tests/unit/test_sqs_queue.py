"""One SQS queue in memory (lamina.services.sqs.queue): visibility, delays, FIFO groups,
deduplication, redrive and retention, with the clock passed in by hand."""

from __future__ import annotations

import hashlib
import json

from lamina.engine.delivery.dedup import WINDOW_MS as DEDUP_WINDOW_MS
from lamina.services.sqs.queue import Message, Queue

T0 = 1_700_000_000_000  # ms


def make_queue(name: str = "q", **attributes) -> Queue:
    defaults = {"VisibilityTimeout": "30", "MessageRetentionPeriod": "345600"}
    if name.endswith(".fifo"):
        defaults["FifoQueue"] = "true"
    return Queue(
        f"000000000000:us-east-1:{name}",
        name,
        f"arn:aws:sqs:us-east-1:000000000000:{name}",
        {**defaults, **{k: str(v) for k, v in attributes.items()}},
        T0,
    )


def send(
    queue: Queue, body: str, now: int = T0, delay_s: int = 0, group: str | None = None, dedup: str | None = None
) -> Message:
    message = queue.new_message(
        body, "md5", now, delay_s, {}, None, {"SenderId": "test"}, group, queue.dedup_id_for(body, dedup)
    )
    queue.add(message, now)
    return message


def bodies(queue: Queue, now: int, limit: int = 10, visibility_s: int = 30) -> list[str]:
    return [m.body for m in queue.receive(limit, visibility_s, now).messages]


def test_standard_queue_hands_out_oldest_first_up_to_the_limit():
    queue = make_queue()
    for i in range(5):
        send(queue, f"m{i}")
    assert bodies(queue, T0, limit=3) == ["m0", "m1", "m2"]
    assert bodies(queue, T0) == ["m3", "m4"]
    assert bodies(queue, T0) == []


def test_a_received_message_is_invisible_until_its_deadline():
    queue = make_queue()
    message = send(queue, "m")
    first = queue.receive(1, 5, T0).messages[0]
    assert first.receives == 1 and first.visible_at == T0 + 5000 and first.first_receive_ms == T0
    receipt = first.receipt
    assert bodies(queue, T0 + 4999) == []
    again = queue.receive(1, 5, T0 + 5000).messages
    assert [m.seq for m in again] == [message.seq]
    assert again[0].receives == 2 and again[0].receipt != receipt
    assert again[0].first_receive_ms == T0


def test_delayed_messages_wait():
    queue = make_queue()
    send(queue, "later", delay_s=10)
    send(queue, "now")
    assert queue.counts(T0) == (1, 0, 1)
    assert bodies(queue, T0) == ["now"]
    assert queue.next_visible_at(T0) == T0 + 10_000
    assert bodies(queue, T0 + 10_000) == ["later"]


def test_change_visibility_to_zero_makes_a_message_receivable_again():
    queue = make_queue()
    send(queue, "m")
    message = queue.receive(1, 30, T0).messages[0]
    queue.change_visibility(message, 0, T0 + 1)
    assert bodies(queue, T0 + 1) == ["m"]
    queue.change_visibility(message, 60, T0 + 2)
    assert bodies(queue, T0 + 31_000) == []  # the older deadline no longer counts
    assert bodies(queue, T0 + 62_000) == ["m"]


def test_delete_and_counts():
    queue = make_queue()
    kept, gone = send(queue, "kept"), send(queue, "gone")
    send(queue, "delayed", delay_s=60)
    queue.receive(2, 30, T0)
    assert queue.counts(T0) == (0, 2, 1)
    assert queue.delete(gone.seq) is gone
    assert queue.delete(gone.seq) is None
    assert queue.counts(T0) == (0, 1, 1)
    assert queue.counts(T0 + 30_000) == (1, 0, 1)
    assert kept.seq in queue.messages


def test_purge_empties_everything():
    queue = make_queue()
    for i in range(3):
        send(queue, f"m{i}")
    queue.receive(1, 30, T0)
    assert sorted(queue.purge()) == [1, 2, 3]
    assert queue.counts(T0) == (0, 0, 0)
    assert bodies(queue, T0 + 60_000) == []
    assert queue.backlog(T0) == 0


def test_fifo_group_is_held_while_its_head_is_in_flight():
    queue = make_queue("q.fifo")
    for i in range(3):
        send(queue, f"a{i}", group="A", dedup=f"a{i}")
    send(queue, "b0", group="B", dedup="b0")
    assert bodies(queue, T0, limit=1) == ["a0"]
    assert bodies(queue, T0) == ["b0"]  # group A waits, group B does not
    assert bodies(queue, T0) == []
    # a0's deadline is when anything can come next: the long-poll wake-up time.
    assert queue.next_visible_at(T0) == T0 + 30_000
    queue.delete(1)
    assert bodies(queue, T0 + 1) == ["a1", "a2"]


def test_fifo_next_visible_ignores_messages_already_visible_behind_a_held_head():
    # Regression: counting their past deadlines made a long poll spin without yielding.
    queue = make_queue("q.fifo")
    send(queue, "head", group="G", dedup="1")
    send(queue, "behind", group="G", dedup="2")
    queue.receive(1, 30, T0)
    assert queue.next_visible_at(T0 + 5) == T0 + 30_000
    queue.delete(1)
    assert queue.next_visible_at(T0 + 5) is None


def test_fifo_group_comes_back_from_its_head_after_the_timeout():
    queue = make_queue("q.fifo")
    for i in range(3):
        send(queue, f"m{i}", group="G", dedup=f"m{i}")
    assert bodies(queue, T0, limit=2, visibility_s=1) == ["m0", "m1"]
    assert bodies(queue, T0 + 500) == []
    assert bodies(queue, T0 + 1000) == ["m0", "m1", "m2"]


def test_fifo_sequence_numbers_increase_and_survive_a_reload():
    queue = make_queue("q.fifo")
    sent = [send(queue, f"m{i}", group="G", dedup=f"m{i}", now=T0 + i) for i in range(3)]
    numbers = [int(m.sequence_number) for m in sent]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    reloaded = make_queue("q.fifo")
    for message in sent:
        reloaded.add(Message.from_row(message.seq, message.doc(), message.visible_at, message.receives), T0 + 5)
    later = send(reloaded, "after", group="G", dedup="after", now=T0 + 5)
    assert int(later.sequence_number) > numbers[-1]
    assert later.seq == 4
    assert reloaded.duplicate_of("G", "m1", T0 + 5) == (sent[1].message_id, sent[1].sequence_number)


def test_deduplication_window():
    queue = make_queue("q.fifo")
    original = send(queue, "x", group="G", dedup="d")
    assert queue.duplicate_of("G", "d", T0 + DEDUP_WINDOW_MS - 1) == (original.message_id, original.sequence_number)
    assert queue.duplicate_of("G", "d", T0 + DEDUP_WINDOW_MS) is None
    assert queue.duplicate_of("G", "other", T0) is None


def test_deduplication_ids():
    assert make_queue().dedup_id_for("body", "given") is None  # standard queues do not deduplicate
    fifo = make_queue("q.fifo")
    assert fifo.dedup_id_for("body", "given") == "given"
    assert fifo.dedup_id_for("body", None) is None
    content = make_queue("c.fifo", ContentBasedDeduplication="true")
    assert content.dedup_id_for("body", None) == hashlib.sha256(b"body").hexdigest()
    assert content.dedup_id_for("body", "explicit") == "explicit"


def test_redrive_hands_over_messages_past_max_receive_count():
    queue = make_queue(
        RedrivePolicy=json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:0:dlq", "maxReceiveCount": 2})
    )
    assert queue.redrive == ("arn:aws:sqs:us-east-1:0:dlq", 2)
    message = send(queue, "poison")
    for receive in range(2):
        assert queue.receive(1, 0, T0 + receive).messages == [message]
    result = queue.receive(1, 0, T0 + 2)
    assert result.messages == [] and result.to_dead_letter == [message]
    assert message.seq not in queue.messages


def test_retention_drops_expired_messages():
    queue = make_queue(MessageRetentionPeriod=60)
    old = send(queue, "old")
    fresh = send(queue, "fresh", now=T0 + 30_000)
    result = queue.receive(10, 30, T0 + 60_000)
    assert result.expired == [old]
    assert result.messages == [fresh]
    assert old.seq not in queue.messages


def test_a_reloaded_in_flight_message_keeps_its_deadline():
    queue = make_queue()
    message = send(queue, "m")
    queue.receive(1, 30, T0)
    row = (message.seq, message.doc(), message.visible_at, message.receives)
    reloaded = make_queue()
    reloaded.add(Message.from_row(*row), T0 + 1000)
    assert reloaded.counts(T0 + 1000) == (0, 1, 0)
    assert bodies(reloaded, T0 + 1000) == []
    again = reloaded.receive(1, 30, T0 + 30_000).messages[0]
    assert again.body == "m" and again.receives == 2


def test_backlog_counts_what_is_receivable():
    queue = make_queue()
    for i in range(4):
        send(queue, f"m{i}")
    send(queue, "delayed", delay_s=5)
    assert queue.backlog(T0) == 4
    assert queue.backlog(T0 + 5000) == 5
