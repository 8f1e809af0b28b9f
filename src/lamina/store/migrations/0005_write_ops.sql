-- Every write of a group commit goes through this view: one row per change, the column
-- `op` saying what it is, and an INSTEAD OF trigger per kind of change doing it. The
-- writer thread then hands SQLite a whole group as one multi-row INSERT: one statement,
-- one transaction, one release of Python's GIL, where separate statements each cost a
-- release and a wait to win the GIL back from the event loop (store/statements.py).
-- Rows are applied in order, so the outcome is that of the changes made one by one.
-- An op with no trigger (0) does nothing: it pads a statement to a power-of-two size.
CREATE VIEW write_ops (op, a, b, c, d, e) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

-- 1: put a document (a kind, b key, c the document's JSON)
CREATE TRIGGER write_ops_put_document INSTEAD OF INSERT ON write_ops WHEN NEW.op = 1 BEGIN
    INSERT INTO documents (kind, key, doc) VALUES (NEW.a, NEW.b, NEW.c)
        ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc;
END;

-- 2: delete a document (a kind, b key)
CREATE TRIGGER write_ops_delete_document INSTEAD OF INSERT ON write_ops WHEN NEW.op = 2 BEGIN
    DELETE FROM documents WHERE kind = NEW.a AND key = NEW.b;
END;

-- 3: delete the documents of a kind whose key starts with a prefix (a kind, b prefix, c the
-- first key past the prefix)
CREATE TRIGGER write_ops_delete_prefix INSTEAD OF INSERT ON write_ops WHEN NEW.op = 3 BEGIN
    DELETE FROM documents WHERE kind = NEW.a AND key >= NEW.b AND key < NEW.c;
END;

-- 4: append a log event (a group, b stream, c timestamp, d ingestion time, e message)
CREATE TRIGGER write_ops_append_log INSTEAD OF INSERT ON write_ops WHEN NEW.op = 4 BEGIN
    INSERT INTO log_events (log_group, log_stream, timestamp, ingestion_time, message)
        VALUES (NEW.a, NEW.b, NEW.c, NEW.d, NEW.e);
END;

-- 5: delete the log events of a group (a group)
CREATE TRIGGER write_ops_delete_log_group INSTEAD OF INSERT ON write_ops WHEN NEW.op = 5 BEGIN
    DELETE FROM log_events WHERE log_group = NEW.a;
END;

-- 6: delete the log events of a stream (a group, b stream)
CREATE TRIGGER write_ops_delete_log_stream INSTEAD OF INSERT ON write_ops WHEN NEW.op = 6 BEGIN
    DELETE FROM log_events WHERE log_group = NEW.a AND log_stream = NEW.b;
END;

-- 7: put a queued message (a queue, b seq, c message JSON, d visible at, e receives)
CREATE TRIGGER write_ops_put_message INSTEAD OF INSERT ON write_ops WHEN NEW.op = 7 BEGIN
    INSERT OR REPLACE INTO queue_messages (queue, seq, message, visible_at, receives)
        VALUES (NEW.a, NEW.b, NEW.c, NEW.d, NEW.e);
END;

-- 8: a message received (a queue, b seq, d visible at, e receives); one that is gone stays gone
CREATE TRIGGER write_ops_mark_received INSTEAD OF INSERT ON write_ops WHEN NEW.op = 8 BEGIN
    UPDATE queue_messages SET visible_at = NEW.d, receives = NEW.e WHERE queue = NEW.a AND seq = NEW.b;
END;

-- 9: delete a message (a queue, b seq)
CREATE TRIGGER write_ops_delete_message INSTEAD OF INSERT ON write_ops WHEN NEW.op = 9 BEGIN
    DELETE FROM queue_messages WHERE queue = NEW.a AND seq = NEW.b;
END;

-- 10: delete every message of a queue (a queue)
CREATE TRIGGER write_ops_delete_queue_messages INSTEAD OF INSERT ON write_ops WHEN NEW.op = 10 BEGIN
    DELETE FROM queue_messages WHERE queue = NEW.a;
END;

-- 11: append a stream record (a stream, b shard, c seq, d partition key, e data)
CREATE TRIGGER write_ops_put_record INSTEAD OF INSERT ON write_ops WHEN NEW.op = 11 BEGIN
    INSERT INTO stream_records (stream, shard, seq, partition_key, data) VALUES (NEW.a, NEW.b, NEW.c, NEW.d, NEW.e);
END;

-- 12: drop a shard's records before a position (a stream, b shard, c seq)
CREATE TRIGGER write_ops_trim_records INSTEAD OF INSERT ON write_ops WHEN NEW.op = 12 BEGIN
    DELETE FROM stream_records WHERE stream = NEW.a AND shard = NEW.b AND seq < NEW.c;
END;

-- 13: delete every record of a stream (a stream)
CREATE TRIGGER write_ops_delete_stream_records INSTEAD OF INSERT ON write_ops WHEN NEW.op = 13 BEGIN
    DELETE FROM stream_records WHERE stream = NEW.a;
END;
