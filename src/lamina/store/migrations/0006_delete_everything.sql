-- 14: delete everything (Lamina's reset): every document, log event, metric, queued
-- message and stream record, in the writer's transaction like any other row of write_ops.
CREATE TRIGGER write_ops_delete_everything INSTEAD OF INSERT ON write_ops WHEN NEW.op = 14 BEGIN
    DELETE FROM documents;
    DELETE FROM log_events;
    DELETE FROM metric_data;
    DELETE FROM queue_messages;
    DELETE FROM stream_records;
END;
