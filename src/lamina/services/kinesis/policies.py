"""PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy: a stream's resource-based
policy (who else may read or write it), kept in the stream's document, so that it survives
a restart and goes with DeleteStream.

A consumer ARN (stream/<name>/consumer/<consumer>:<created>) names an enhanced fan-out
consumer, which Lamina does not offer: there is never such a consumer, so its policy calls
answer ResourceNotFoundException as AWS does for a consumer that is not registered.

`resource_policy(arn)` is what authorization reads for a call on a stream.
"""

from __future__ import annotations

from ...errors import ServiceError
from ...policy import RESOURCE, MalformedPolicy, parse_policy
from ..context import RequestContext
from .errors import invalid_argument
from .state import KinesisState, parse_arn
from .stream import Stream

MAX_POLICY_BYTES = 20 * 1024  # the largest resource-based policy Kinesis keeps
EMPTY_POLICY = "{}"  # what GetResourcePolicy answers for a stream without one


def _not_found(arn: str, account: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Stream {arn} under account {account} not found.", 400)


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _is_consumer(arn: str) -> bool:
    return "/consumer/" in arn.split(":", 5)[-1]


class PoliciesApi:
    state: KinesisState

    def _policy_target(self, arn: str) -> Stream:
        """The stream `arn` names; a consumer's ARN, or an unknown stream's, is not found."""
        if _is_consumer(arn):
            stream_arn = arn.split("/consumer/", 1)[0]
            stream = self.state.by_arn(stream_arn)
            if stream is None:
                raise _not_found(stream_arn, _account(arn))
            raise ServiceError("ResourceNotFoundException", f"Consumer {arn}, account {stream.account} not found.", 400)
        stream = self.state.by_arn(arn) if parse_arn(arn) else None
        if stream is None:
            raise _not_found(arn, _account(arn))
        return stream

    async def put_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        stream = self._policy_target(params["ResourceARN"])
        text = params["Policy"]
        if len(text.encode()) > MAX_POLICY_BYTES:
            raise invalid_argument(
                f"Policy size {len(text.encode())} bytes exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes."
            )
        try:
            parse_policy(text, kind=RESOURCE)
        except MalformedPolicy as error:
            raise invalid_argument(error.message) from None
        stream.policy = text
        await self.state.save(stream)
        return {}

    async def get_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        stream = self._policy_target(params["ResourceARN"])
        return {"Policy": stream.policy or EMPTY_POLICY}

    async def delete_resource_policy(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["ResourceARN"]
        stream = self._policy_target(arn)
        if not stream.policy:
            raise ServiceError("ResourceNotFoundException", f"No resource policy found for resource ARN {arn}.", 400)
        stream.policy = None
        await self.state.save(stream)
        return {}

    async def resource_policy(self, arn: str) -> str | None:
        """The policy that applies to a call on `arn`: the stream's ("" when it has none), or
        None when there is no such stream (or it is a consumer's ARN: none exist here)."""
        if _is_consumer(arn):
            return None
        stream = self.state.by_arn(arn)
        if stream is None:
            return None
        return stream.policy or ""

    async def resource_tags(self, arn: str) -> dict[str, str]:
        """The stream's tags (aws:ResourceTag/...)."""
        stream = None if _is_consumer(arn) else self.state.by_arn(arn)
        return dict(stream.tags) if stream is not None else {}
