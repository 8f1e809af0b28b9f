"""What the CloudWatch operations share: AWS's error codes, periods, statistics, dimensions.

Errors use the codes CloudWatch's query protocol made known (InvalidParameterValue, ...);
the protocol layer finds their shapes and HTTP status in the model.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from ...errors import ServiceError
from ...observability.series import Bucket

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
STORED_PERIOD = 60  # Lamina keeps metrics per minute

_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?|100(?:\.0+)?)")


def invalid_value(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def invalid_combination(message: str) -> ServiceError:
    return ServiceError("InvalidParameterCombination", message, 400)


def missing_parameter(message: str) -> ServiceError:
    return ServiceError("MissingParameter", message, 400)


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def as_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def effective_period(period: int) -> int | None:
    """The period buckets are built with (None when CloudWatch would refuse it): multiples of
    60 as asked, the high-resolution periods at the one-minute resolution kept."""
    if period in HIGH_RESOLUTION_PERIODS:
        return STORED_PERIOD
    if period > 0 and period % 60 == 0:
        return period
    return None


def percentile_of(stat: str) -> float | None:
    """p99 -> 99.0, p99.9 -> 99.9; None for anything else."""
    match = _PERCENTILE.fullmatch(stat)
    return float(match.group(1)) if match else None


def statistic(bucket: Bucket, stat: str) -> float | None:
    """One statistic of a bucket; None where it has none (a percentile without raw values, or
    of negative values, which CloudWatch does not compute)."""
    if stat == "SampleCount":
        return float(bucket.count)
    if stat == "Sum":
        return bucket.sum
    if stat == "Average":
        return bucket.average
    if stat == "Minimum":
        return bucket.minimum
    if stat == "Maximum":
        return bucket.maximum
    rank = percentile_of(stat)
    if rank is None or bucket.minimum < 0:
        return None
    value = bucket.percentile(rank)
    return None if value is None or math.isnan(value) else value


def dimensions_of(items: list[dict] | None, where: str) -> dict[str, str]:
    """[{Name, Value}] -> {name: value}; a name given twice is refused."""
    found: dict[str, str] = {}
    for item in items or []:
        name = item["Name"]
        if name in found:
            raise invalid_value(f"The dimension {name} for parameter {where} is duplicated.")
        found[name] = item["Value"]
    return found


def datapoint_count(start: float, end: float, period: int) -> int:
    return max(0, math.ceil((end - start) / period))
