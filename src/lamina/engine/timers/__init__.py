"""Time: schedule expressions as AWS writes them (expressions.py: rate, cron, at) and the
one loop that fires jobs on them (scheduler.py)."""
