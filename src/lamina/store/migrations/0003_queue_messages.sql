-- Messages of SQS queues (and any other durable queue of Lamina's): one row per message.
-- The in-memory queue is rebuilt from these rows at startup.
CREATE TABLE queue_messages (
    queue      TEXT NOT NULL,     -- "<account>:<region>:<queue name>"
    seq        INTEGER NOT NULL,  -- order of arrival within the queue
    message    TEXT NOT NULL,     -- the message as JSON: id, body, attributes, group, ...
    visible_at INTEGER NOT NULL,  -- ms since epoch
    receives   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (queue, seq)
) WITHOUT ROWID;
