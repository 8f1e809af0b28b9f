-- CloudWatch metrics: one row per series (namespace, name, dimensions, unit) and minute.
-- dims is the canonical key of the dimensions (a JSON array of sorted [name, value] pairs);
-- samples a JSON array of at most a thousand of the minute's values, standing for `sampled`
-- raw values, from which percentiles are estimated.
CREATE TABLE metric_data (
    namespace    TEXT NOT NULL,
    name         TEXT NOT NULL,
    dims         TEXT NOT NULL,
    minute       INTEGER NOT NULL,
    unit         TEXT NOT NULL,
    sample_count REAL NOT NULL,
    value_sum    REAL NOT NULL,
    value_min    REAL NOT NULL,
    value_max    REAL NOT NULL,
    samples      TEXT NOT NULL,
    sampled      REAL NOT NULL,
    PRIMARY KEY (namespace, name, dims, minute, unit)
) WITHOUT ROWID;
CREATE INDEX metric_data_by_minute ON metric_data (minute);
