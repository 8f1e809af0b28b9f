-- Control-plane documents: functions, versions, aliases, log groups and streams, ...
CREATE TABLE documents (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    doc  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- CloudWatch Logs events, append-only.
CREATE TABLE log_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    log_group      TEXT NOT NULL,
    log_stream     TEXT NOT NULL,
    timestamp      INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    message        TEXT NOT NULL
);
CREATE INDEX log_events_by_stream ON log_events (log_group, log_stream, id);
CREATE INDEX log_events_by_time ON log_events (log_group, timestamp, id);
