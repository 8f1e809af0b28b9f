"""Kinesis's errors, in AWS's words. Kinesis answers every client error with status 400
(a missing stream included), unlike the services that use 404."""

from __future__ import annotations

from ...errors import ServiceError, validation_error


def stream_not_found(name: str, account: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Stream {name} under account {account} not found.", 400)


def shard_not_found(shard_id: str, name: str, account: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException", f"Shard {shard_id} in stream {name} under account {account} does not exist", 400
    )


def no_such_shard(given: str, name: str, account: str) -> ServiceError:
    """For a shard id that names no shard at all (not even shardId-<n>)."""
    return ServiceError(
        "ResourceNotFoundException", f"Could not find shard {given} in stream {name} under account {account}.", 400
    )


def consumer_not_found(arn: str, account: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Consumer {arn}, account {account} not found.", 400)


def invalid_argument(message: str) -> ServiceError:
    return ServiceError("InvalidArgumentException", message, 400)


def in_use(message: str) -> ServiceError:
    return ServiceError("ResourceInUseException", message, 400)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message, 400)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def too_long(path: str, limit: int) -> ServiceError:
    # Kinesis leaves the blob's value out of this one message (a ByteBuffer prints badly).
    return validation_error(
        [f"Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {limit}"]
    )
