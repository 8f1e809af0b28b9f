"""Event source mappings at work: pollers that pull batches from queues (queue.py) and,
later, streams, and hand them to functions."""
