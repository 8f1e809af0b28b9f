"""What the platform tells about itself, below the engine (which writes to it): metrics
(series.py: a series and its minutes; recorder.py: recording and flushing; queries.py:
reading back) and the log sink (logsink.py: function output on its way to CloudWatch Logs)."""
