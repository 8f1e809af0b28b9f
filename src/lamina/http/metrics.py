"""GET /metrics: the recorder's series in the Prometheus text exposition format (0.0.4).

Every series put since the server started, from the recorder's totals (count, sum and last
value of all its values; no store read). Values in Count are counters (`..._total`, the sum
of the values), except the levels in GAUGES, shown as gauges of their last value; others are
summaries (`..._count` and `..._sum`), times converted to seconds. Names are
lamina_<namespace without AWS/>_<metric in snake case>; labels are the dimensions in snake
case, less a trailing `_name` (FunctionName -> function).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from ..observability.recorder import MetricsRecorder
from ..observability.series import split_namespace
from ..protocol.messages import Request, Response

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Metrics that are levels, not events: a sum over time means nothing, the last value does.
GAUGES = frozenset(
    {
        "ConcurrentExecutions",
        "UnreservedConcurrentExecutions",
        "ProvisionedConcurrentExecutions",
        "ProvisionedConcurrencyUtilization",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateAgeOfOldestMessage",
    }
)
_TIME_SCALE = {"Seconds": 1.0, "Milliseconds": 1e-3, "Microseconds": 1e-6}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_INVALID = re.compile(r"[^a-zA-Z0-9_]+")


def prometheus_handler(recorder: MetricsRecorder) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        if request.path.rstrip("/") != "/metrics":
            return Response(404, [("content-type", "text/plain")], b"not found")
        if request.method not in ("GET", "HEAD"):
            return Response(405, [("content-type", "text/plain"), ("allow", "GET, HEAD")], b"method not allowed")
        body = prometheus_text(recorder).encode("utf-8")
        return Response(200, [("content-type", CONTENT_TYPE)], b"" if request.method == "HEAD" else body)

    return metrics


def prometheus_text(recorder: MetricsRecorder) -> str:
    """Every series the recorder has had put since it started, in the text format ("" for none)."""
    families: dict[str, tuple[str, str, list[tuple[str, str, float]]]] = {}
    for (stored, name, dims, unit), (count, total, last) in sorted(recorder.totals()):
        scope, namespace = split_namespace(stored)
        if scope is not None:  # another account's or region's: say whose
            dims = (("Account", scope[1]), ("Region", scope[0])) + dims
        kind, family, scale = _prometheus_family(namespace, name, unit)
        if family in families and families[family][0] != kind:
            family = f"{family}_{kind}"
        if family not in families:
            what = {"counter": "Sum of the values", "gauge": "Last value"}.get(kind, "Count and sum of the values")
            help_text = f"{what} of CloudWatch metric {namespace} {name} ({unit}) since the server started."
            families[family] = (kind, help_text, [])
        labels = _labels(dims)
        samples = families[family][2]
        if kind == "counter":
            samples.append((family, labels, total))
        elif kind == "gauge":
            samples.append((family, labels, last * scale))
        else:
            samples.append((family + "_count", labels, count))
            samples.append((family + "_sum", labels, total * scale))
    lines = []
    for family in sorted(families):
        kind, help_text, samples = families[family]
        lines.append(f"# HELP {family} {_escape_help(help_text)}")
        lines.append(f"# TYPE {family} {kind}")
        for sample_name, labels, value in samples:
            lines.append(f"{sample_name}{labels} {_number(value)}")
    return "\n".join(lines) + "\n" if lines else ""


def _snake(text: str) -> str:
    return _INVALID.sub("_", _CAMEL.sub("_", text)).strip("_").lower()


def _prometheus_family(namespace: str, name: str, unit: str) -> tuple[str, str, float]:
    """(type, family name, factor to the family's unit) of a series."""
    space = namespace[4:] if namespace.startswith("AWS/") else namespace
    base = "_".join(part for part in ("lamina", _snake(space), _snake(name)) if part)
    if name in GAUGES:
        return "gauge", base, 1.0
    if unit == "Count":
        return "counter", f"{base}_total", 1.0
    if unit in _TIME_SCALE:
        return "summary", f"{base}_seconds", _TIME_SCALE[unit]
    suffix = _snake(unit.replace("/", "_per_")) if unit and unit != "None" else ""
    if suffix and not base.endswith("_" + suffix):
        base = f"{base}_{suffix}"
    return "summary", base, 1.0


def _labels(dims: tuple[tuple[str, str], ...]) -> str:
    if not dims:
        return ""
    parts = []
    used: set[str] = set()
    for name, value in dims:
        label = _snake(name)
        if label.endswith("_name") and len(label) > 5:
            label = label[:-5]
        if not label or label[0].isdigit() or label.startswith("__"):
            label = "dim_" + label.lstrip("_")
        while label in used:
            label += "_"
        used.add(label)
        escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{label}="{escaped}"')
    return "{" + ",".join(parts) + "}"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))
