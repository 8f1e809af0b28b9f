"""Accepted -> retried -> finished: what was accepted is in the store before the caller
hears so, is retried by a RetryPolicy (retry.py) until it succeeds or is given up on, and
leaves the store only then. async_queue.py (Lambda's asynchronous invocations), outbox.py
(deliveries to targets: EventBridge, Scheduler, SNS), destinations.py (delivering to
another service by ARN), dedup.py (FIFO deduplication windows)."""
