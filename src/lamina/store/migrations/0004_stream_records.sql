-- Records of Kinesis data streams: one row per record, appended in large batches.
-- `stream` is the stream's incarnation id (a stream deleted and created again under the
-- same name gets a new one), `seq` the record's position in the stream (ascending across
-- all its shards). A rowid table, not WITHOUT ROWID, because a record may be up to 10 MiB.
CREATE TABLE stream_records (
    stream        TEXT NOT NULL,
    shard         TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    partition_key TEXT NOT NULL,
    data          BLOB NOT NULL
);
CREATE UNIQUE INDEX stream_records_by_shard ON stream_records (stream, shard, seq);
