"""Event source mappings at work: pollers that pull batches from queues (queue.py) and
streams (stream.py, with durable per-shard checkpoints in checkpoints.py) and hand them
to functions. The sources and the invoke are handed in; nothing here imports a service."""
