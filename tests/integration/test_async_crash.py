"""Crash safety of asynchronous invocation: every Event invoke answered 202 runs at least
once, even when the server is killed with SIGKILL while thousands are queued or running.

Senders keep sending through the kill and the restart; the request ids of the 202s are
the ledger, and the function prints its request id, so what ran is read back from its
log group.
"""

from __future__ import annotations

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

EVENTS = 4000
SENDERS = 8
KILL_AT_ACCEPTED = 2500  # the kill comes once this many were accepted ...
MIN_QUEUED_AT_KILL = 1000  # ... with at least this many of them waiting to run (checked)
RESERVED = 20  # 20 at a time, 50 ms each: the function drains ~400 events a second

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
    clients = [sender_client(server) for _ in range(SENDERS)]
    barrier = threading.Barrier(SENDERS + 1)

    def send(index: int) -> None:
        barrier.wait()
        for n in range(index, EVENTS, SENDERS):
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
    wait_until(lambda: len(accepted) >= KILL_AT_ACCEPTED, timeout=60, interval=0.01, what="events to pile up")
    before_kill = health(server) or {}
    with lock:
        accepted_before_kill = len(accepted)
    killed = time.monotonic()
    server.restart(kill=True)
    restarted = time.monotonic()
    for thread in threads:
        thread.join(timeout=120)
    sent_s = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)

    expected = set(accepted)
    assert len(expected) == len(accepted), "request ids are unique"
    group = f"/aws/lambda/{name}"

    def ran() -> Counter:
        return Counter(message.split()[1] for message in log_messages(server, group) if message.startswith("ran "))

    def all_ran():
        counts = ran()
        return counts if expected <= set(counts) else None

    deadline_s = 90 - (time.monotonic() - started)
    try:
        counts = wait_until(all_ran, timeout=max(deadline_s, 10), interval=0.5, what="every accepted event to run")
    finally:
        counts = ran()
        lost = expected - set(counts)
        print(
            f"\nsent {EVENTS} in {sent_s:.1f}s: {len(accepted)} accepted ({accepted_before_kill} before the kill, "
            f"queue depth then {before_kill.get('async_queue_depth')}), refused {dict(refused)}; "
            f"restart took {restarted - killed:.1f}s; ran {len(set(counts) & expected)}, "
            f"ran more than once {sum(1 for c in counts.values() if c > 1)}, lost {len(lost)}"
        )
    assert len(accepted) + sum(refused.values()) == EVENTS
    assert len(accepted) > EVENTS - 50
    assert before_kill.get("async_queue_depth", 0) >= MIN_QUEUED_AT_KILL, before_kill  # thousands queued, 20 running
    assert lost == set()
    wait_until(
        lambda: (health(server) or {}).get("async_queue_depth") == 0, timeout=20, what="the recovered queue to drain"
    )
