"""Account limits: the shard quota that CreateStream and resharding must stay within, and
DescribeLimits. Only provisioned streams' open shards count against the quota, as on AWS."""

from __future__ import annotations

from ..context import RequestContext
from .errors import limit_exceeded
from .state import KinesisState

ON_DEMAND_STREAM_LIMIT = 50


def open_shard_count(state: KinesisState, account: str, region: str) -> int:
    prefix = f"{account}:{region}:"
    return sum(
        len(s.open_shards()) for k, s in state.streams.items() if k.startswith(prefix) and s.mode == "PROVISIONED"
    )


def check_shard_limit(state: KinesisState, account: str, region: str, additional: int) -> None:
    current = open_shard_count(state, account, region)
    limit = state.shard_limit
    if current + additional > limit:
        raise limit_exceeded(
            f"This request would exceed the shard limit for the account {account} in {region}. Current shard count "
            f"for the account: {current}. Limit: {limit}. Number of additional shards that would have resulted from "
            f"this request: {additional}. Refer to the AWS Service Limits page "
            "(https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to "
            "request higher limits."
        )


class LimitsApi:
    state: KinesisState

    async def describe_limits(self, params: dict, ctx: RequestContext) -> dict:
        prefix = f"{ctx.account_id}:{ctx.region}:"
        on_demand = sum(1 for k, s in self.state.streams.items() if k.startswith(prefix) and s.mode == "ON_DEMAND")
        return {
            "ShardLimit": self.state.shard_limit,
            "OpenShardCount": open_shard_count(self.state, ctx.account_id, ctx.region),
            "OnDemandStreamCount": on_demand,
            "OnDemandStreamCountLimit": ON_DEMAND_STREAM_LIMIT,
        }
