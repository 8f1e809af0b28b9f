"""The data plane: sandboxes, the pool of warm instances, the invoker, logs out."""
