"""A stream's settings: retention (Increase/DecreaseStreamRetentionPeriod), capacity mode
(UpdateStreamMode), maximum record size (UpdateMaxRecordSize), encryption
(Start/StopStreamEncryption), enhanced monitoring (Enable/DisableEnhancedMonitoring), the
record distribution strategy (UpdateStreamRecordDistributionStrategy) and warm throughput
(UpdateStreamWarmThroughput).

Encryption, monitoring, the distribution strategy and warm throughput are recorded and
reported, nothing more: records are not encrypted at rest, no shard-level metrics are
published, and no stream is throttled, so every stream is as warm as the machine.
"""

from __future__ import annotations

from ..context import RequestContext
from .errors import invalid_argument
from .state import KinesisState

MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760
ALL_METRICS = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]


def _check_retention(hours: int) -> None:
    if hours < MIN_RETENTION_HOURS:
        raise invalid_argument(
            f"Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested "
            f"retention period ({hours} hours) is too short."
        )
    if hours > MAX_RETENTION_HOURS:
        raise invalid_argument(
            f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested "
            f"retention period ({hours} hours) is too long."
        )


class SettingsApi:
    state: KinesisState

    async def increase_stream_retention_period(self, params: dict, ctx: RequestContext) -> dict:
        return await self._change_retention(params, ctx, longer=True)

    async def decrease_stream_retention_period(self, params: dict, ctx: RequestContext) -> dict:
        # Records now past retention stop being readable at once (readers check the horizon);
        # the maintenance task removes them from the store.
        return await self._change_retention(params, ctx, longer=False)

    async def _change_retention(self, params: dict, ctx: RequestContext, longer: bool) -> dict:
        stream = self.state.find(params, ctx)
        hours = params["RetentionPeriodHours"]
        _check_retention(hours)
        if (hours < stream.retention_hours) if longer else (hours > stream.retention_hours):
            wrong, other = ("shorter", "DecreaseRetentionPeriod") if longer else ("longer", "IncreaseRetentionPeriod")
            raise invalid_argument(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not be "
                f"{wrong} than existing retention period ({stream.retention_hours} hours). Use "
                f"{other} API."
            )
        stream.retention_hours = hours
        await self.state.save(stream)
        return {}

    async def update_stream_mode(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        # The stream keeps the shards it has either way, as on AWS at the moment of the switch.
        stream.mode = params["StreamModeDetails"]["StreamMode"]
        await self.state.save(stream)
        return {}

    async def update_max_record_size(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        stream.max_record_kib = params["MaxRecordSizeInKiB"]
        await self.state.save(stream)
        return {}

    async def start_stream_encryption(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        if params["EncryptionType"] != "KMS":
            raise invalid_argument("KMS is the only valid EncryptionType for this request.")
        stream.encryption, stream.key_id = "KMS", params["KeyId"]
        await self.state.save(stream)
        return {}

    async def stop_stream_encryption(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        stream.encryption, stream.key_id = "NONE", None
        await self.state.save(stream)
        return {}

    async def enable_enhanced_monitoring(self, params: dict, ctx: RequestContext) -> dict:
        return await self._monitoring(params, ctx, enable=True)

    async def disable_enhanced_monitoring(self, params: dict, ctx: RequestContext) -> dict:
        return await self._monitoring(params, ctx, enable=False)

    async def _monitoring(self, params: dict, ctx: RequestContext, enable: bool) -> dict:
        stream = self.state.find(params, ctx)
        asked = params["ShardLevelMetrics"]
        names = ALL_METRICS if "ALL" in asked else asked
        current = list(stream.metrics)
        if enable:
            wanted = current + [n for n in names if n not in current]
        else:
            wanted = [n for n in current if n not in names]
        stream.metrics = [n for n in ALL_METRICS if n in wanted]
        await self.state.save(stream)
        return {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "CurrentShardLevelMetrics": current,
            "DesiredShardLevelMetrics": list(stream.metrics),
        }

    async def update_stream_record_distribution_strategy(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        stream.distribution = params["RecordDistributionStrategy"]
        await self.state.save(stream)
        return {}

    async def update_stream_warm_throughput(self, params: dict, ctx: RequestContext) -> dict:
        stream = self.state.find(params, ctx)
        if stream.mode != "ON_DEMAND":
            raise invalid_argument(
                f"Warm throughput can only be configured for streams in ON_DEMAND mode. Stream {stream.name} "
                f"under account {stream.account} is in {stream.mode} mode."
            )
        stream.warm_mibps = params["WarmThroughputMiBps"]
        await self.state.save(stream)
        # Lamina does not throttle a stream: the throughput asked for is there at once.
        warm = {"TargetMiBps": stream.warm_mibps, "CurrentMiBps": stream.warm_mibps}
        return {"StreamARN": stream.arn, "StreamName": stream.name, "WarmThroughput": warm}
