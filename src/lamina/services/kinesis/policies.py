"""PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy: a stream's resource-based
policy (who else may read or write it), kept in the stream's document, so that it survives
a restart and goes with DeleteStream.

A consumer ARN (stream/<name>/consumer/<consumer>:<created>) names an enhanced fan-out
consumer, which has a policy of its own (kept with the consumer in the stream's document).

`resource_policy(arn)` is what authorization reads for a call on a stream or a consumer.
"""

from __future__ import annotations

from ...errors import ServiceError
from ...policy import RESOURCE, MalformedPolicy, parse_policy
from ..context import RequestContext
from .consumer import Consumer, is_consumer_arn
from .errors import consumer_not_found, invalid_argument
from .state import KinesisState, parse_arn
from .stream import Stream

MAX_POLICY_BYTES = 20 * 1024  # the largest resource-based policy Kinesis keeps
EMPTY_POLICY = "{}"  # what GetResourcePolicy answers for a stream without one


def _not_found(arn: str, account: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Stream {arn} under account {account} not found.", 400)


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


class PoliciesApi:
    state: KinesisState

    def _policy_target(self, arn: str) -> tuple[Stream, Stream | Consumer]:
        """The stream `arn` names, and what holds the policy: the stream or its consumer."""
        if is_consumer_arn(arn):
            stream_arn = arn.split("/consumer/", 1)[0]
            if self.state.by_arn(stream_arn) is None:
                raise _not_found(stream_arn, _account(arn))
            found = self.state.consumer_by_arn(arn)
            if found is None:
                raise consumer_not_found(arn, _account(arn))
            return found
        stream = self.state.by_arn(arn) if parse_arn(arn) else None
        if stream is None:
            raise _not_found(arn, _account(arn))
        return stream, stream

    async def put_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        stream, holder = self._policy_target(params["ResourceARN"])
        text = params["Policy"]
        if len(text.encode()) > MAX_POLICY_BYTES:
            raise invalid_argument(
                f"Policy size {len(text.encode())} bytes exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes."
            )
        try:
            parse_policy(text, kind=RESOURCE)
        except MalformedPolicy as error:
            raise invalid_argument(error.message) from None
        holder.policy = text
        await self.state.save(stream)
        return {}

    async def get_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        _, holder = self._policy_target(params["ResourceARN"])
        return {"Policy": holder.policy or EMPTY_POLICY}

    async def delete_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["ResourceARN"]
        stream, holder = self._policy_target(arn)
        if not holder.policy:
            raise ServiceError("ResourceNotFoundException", f"No resource policy found for resource ARN {arn}.", 400)
        holder.policy = None
        await self.state.save(stream)
        return {}

    async def resource_policy(self, arn: str) -> str | None:
        """The policy that applies to a call on `arn`: the stream's or the consumer's ("" when
        it has none), or None when there is no such stream or consumer."""
        if is_consumer_arn(arn):
            found = self.state.consumer_by_arn(arn)
            return None if found is None else found[1].policy or ""
        stream = self.state.by_arn(arn)
        if stream is None:
            return None
        return stream.policy or ""

    async def resource_tags(self, arn: str) -> dict[str, str]:
        """The stream's or the consumer's tags (aws:ResourceTag/...)."""
        if is_consumer_arn(arn):
            found = self.state.consumer_by_arn(arn)
            return dict(found[1].tags) if found is not None else {}
        stream = self.state.by_arn(arn)
        return dict(stream.tags) if stream is not None else {}
