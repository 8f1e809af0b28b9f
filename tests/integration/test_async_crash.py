"""Crash safety of asynchronous invocation: every Event invoke answered 202 runs at least
once, even when the server is killed with SIGKILL while thousands are queued or running.

Senders keep sending through the kill and the restart; the request ids of the 202s are
the ledger, and the function prints its request id, so what ran is read back from its
log group.

The kill waits for the backlog itself (the queue depth the server reports), not for a
number of sends: how fast a backlog builds depends on how fast this machine sends and
drains, and a loaded CI machine sends more slowly. The senders keep going until the
backlog is there (up to MAX_EVENTS), through the kill and for a while after the restart.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.request
from collections import Counter

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import ROLE, make_zip

from .test_lambda_helpers import log_messages, wait_until

SENDERS = 8
MIN_QUEUED_AT_KILL = 1500  # the kill comes once at least this many accepted events wait to run
AFTER_RESTART = 500  # the senders stop once this many more were accepted by the restarted server
MAX_EVENTS = 20_000  # a machine that cannot build the backlog within this many sends fails
RESERVED = 10  # 10 at a time, 50 ms each: the function drains at most ~200 events a second

CODE = make_zip(
    {
        "app.py": """
    import time

    def handler(event, context):
        time.sleep(0.05)
        print(f"ran {context.aws_request_id}")
        return event["n"]
    """
    }
)


def sender_client(server):
    # No retries of its own: a retried Event invoke is a second event with another id.
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=30, max_pool_connections=2),
    )


def health(server) -> dict | None:
    try:
        with urllib.request.urlopen(f"{server.url}/_lamina/health", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def test_accepted_events_survive_kill_9(lamina_factory):
    server = lamina_factory()
    client = server.client("lambda")
    name = "crash"
    client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": CODE}, Timeout=10
    )
    # Fewer at once than the senders send: a backlog of thousands builds up before the kill.
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=RESERVED)

    accepted: list[str] = []  # request ids of the 202s
    refused = Counter()  # what a send got instead of a 202 (the kill, the restart)
    lock = threading.Lock()
    numbers = itertools.count()  # the events' n, handed out to the senders
    stop = threading.Event()
    clients = [sender_client(server) for _ in range(SENDERS)]
    barrier = threading.Barrier(SENDERS + 1)

    def send(index: int) -> None:
        barrier.wait()
        while not stop.is_set():
            with lock:
                n = next(numbers)
            if n >= MAX_EVENTS:
                return
            try:
                response = clients[index].invoke(
                    FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": n}).encode()
                )
            except (BotoCoreError, ClientError) as error:
                with lock:
                    refused[type(error).__name__] += 1
                # The server is down: wait for it rather than burn through the events.
                wait_until(lambda: health(server), timeout=60, interval=0.05, what="the server to come back")
                continue
            assert response["StatusCode"] == 202
            with lock:
                accepted.append(response["ResponseMetadata"]["RequestId"])

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()

    def backlog() -> dict | None:
        current = health(server) or {}
        if current.get("async_queue_depth", 0) >= MIN_QUEUED_AT_KILL:
            return current
        assert any(thread.is_alive() for thread in threads), (
            f"{MAX_EVENTS} events sent without a backlog of {MIN_QUEUED_AT_KILL}: {current}"
        )
        return None

    try:
        before_kill = wait_until(backlog, timeout=120, interval=0.02, what="a backlog to pile up")
        with lock:
            accepted_before_kill = len(accepted)
        killed = time.monotonic()
        server.restart(kill=True)
        restarted = time.monotonic()
        # The senders go on against the restarted server for a while: sends across the kill
        # and the restart are counted too.
        wait_until(
            lambda: len(accepted) >= accepted_before_kill + AFTER_RESTART or not any(t.is_alive() for t in threads),
            timeout=120,
            what="sends to the restarted server",
        )
    finally:
        stop.set()
    for thread in threads:
        thread.join(timeout=120)
    sent_s = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)

    with lock:
        sent = min(next(numbers), MAX_EVENTS)  # every n below MAX_EVENTS handed out was sent
    expected = set(accepted)
    assert len(expected) == len(accepted), "request ids are unique"
    group = f"/aws/lambda/{name}"

    def ran() -> Counter:
        return Counter(message.split()[1] for message in log_messages(server, group) if message.startswith("ran "))

    def all_ran():
        counts = ran()
        return counts if expected <= set(counts) else None

    # The backlog drains at ~RESERVED / 50 ms, slower on a loaded machine: allow four times that.
    drain_s = 4 * len(expected) * 0.05 / RESERVED
    try:
        counts = wait_until(all_ran, timeout=max(drain_s, 30), interval=1, what="every accepted event to run")
    finally:
        counts = ran()
        lost = expected - set(counts)
        print(
            f"\nsent {sent} in {sent_s:.1f}s: {len(accepted)} accepted ({accepted_before_kill} before the kill, "
            f"queue depth then {before_kill.get('async_queue_depth')}), refused {dict(refused)}; "
            f"restart took {restarted - killed:.1f}s; ran {len(set(counts) & expected)}, "
            f"ran more than once {sum(1 for c in counts.values() if c > 1)}, lost {len(lost)}"
        )
    assert len(accepted) + sum(refused.values()) == sent
    assert sum(refused.values()) < 50  # only the sends in flight at the kill and during the restart fail
    assert before_kill["async_queue_depth"] >= MIN_QUEUED_AT_KILL, before_kill  # thousands queued, 10 running
    assert lost == set()
    wait_until(
        lambda: (health(server) or {}).get("async_queue_depth") == 0, timeout=20, what="the recovered queue to drain"
    )
