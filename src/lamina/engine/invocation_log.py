"""An instance's log stream, and the lines Lambda writes around a function's own output:

    START RequestId: <id> Version: <version>
    ... the function's output ...
    END RequestId: <id>
    REPORT RequestId: <id>  Duration: … ms  Billed Duration: … ms  Memory Size: … MB
           Max Memory Used: … MB  [Init Duration | Restore Duration …]  [Status …]

Every line goes to the log sink at once (one group and stream per instance, as on AWS);
while an invocation asked for its log tail (`LogType: Tail`), the lines are also kept
here, bounded, and handed back when it ends.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from datetime import datetime, timezone

from ..observability.logsink import LogSink, group_key
from . import faults
from .spec import FunctionSpec

TAIL_BYTES = 4096  # what LogResult carries: the last 4 KB


class InvocationLog:
    """An instance's log target: everything to the sink, and a tail while someone listens."""

    def __init__(self, sink: LogSink, group: str, stream: str) -> None:
        self.sink = sink
        self.group = group
        self.stream = stream
        self.tail: list[str] | None = None
        self._tail_bytes = 0

    @classmethod
    async def open(cls, sink: LogSink, spec: FunctionSpec, stream: str) -> InvocationLog:
        """The log of a new instance (or snapshot) of `spec`: its stream made first."""
        await sink.ensure_stream(spec.account, spec.region, spec.log_group, stream)
        return cls(sink, group_key(spec.account, spec.region, spec.log_group), stream)

    def __call__(self, events: list[tuple[int, str]]) -> None:
        self.sink.emit(self.group, self.stream, events)
        if self.tail is not None:
            for _, message in events:
                self.tail.append(message)
                self._tail_bytes += len(message) + 1
            while self._tail_bytes > 4 * TAIL_BYTES and len(self.tail) > 1:
                self._tail_bytes -= len(self.tail.pop(0)) + 1

    def listen(self) -> None:
        """Keep a tail from here on (an instance's init output belongs to its first invocation's)."""
        self.tail, self._tail_bytes = [], 0

    def stop(self) -> list[str]:
        tail, self.tail = self.tail or [], None
        return tail

    def line(self, message: str) -> None:
        self([(int(time.time() * 1000), message)])

    def start(self, request_id: str, version: str) -> None:
        self.line(f"START RequestId: {request_id} Version: {version}")

    def end(self, request_id: str, report: str, want_tail: bool) -> str:
        """END and REPORT; returns the tail (base64 of its last 4 KB) when asked for."""
        now_ms = int(time.time() * 1000)
        self([(now_ms, f"END RequestId: {request_id}"), (now_ms, report)])
        tail_lines = self.stop()
        if not want_tail:
            return ""
        data = ("\n".join(tail_lines) + "\n").encode("utf-8")[-TAIL_BYTES:]
        return base64.b64encode(data).decode("ascii")


def stream_name(version: str, instance_id: str) -> str:
    """AWS's log stream name for an instance: 2026/12/07/[$LATEST]<32 hex>."""
    return f"{datetime.now(timezone.utc).strftime('%Y/%m/%d')}/[{version}]{instance_id}"


def utc_stamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def report_line(
    request_id: str,
    duration_ms: float,
    billed_ms: int,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
    restore_ms: float | None,
    error_type: str | None,
) -> str:
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed_ms} ms\t"
        f"Memory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t"
    )
    if init_ms is not None:
        report += f"Init Duration: {init_ms:.2f} ms\t"
    if restore_ms is not None:
        report += f"Restore Duration: {restore_ms:.2f} ms\tBilled Restore Duration: {math.ceil(restore_ms)} ms\t"
    if error_type in faults.SANDBOX_FAULTS:
        report += f"Status: {'timeout' if error_type == faults.SANDBOX_TIMEDOUT else 'error'}"
        if error_type != faults.SANDBOX_TIMEDOUT:
            report += f"\tError Type: {error_type}"
    return report


async def pump_lines(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: InvocationLog) -> None:
    """A process's output, a line at a time, into `log` until it closes (a SnapStart
    snapshot's own output: its init)."""
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            log([(int(time.time() * 1000), line.decode("utf-8", "replace").rstrip("\n").replace("\r", "\n"))])
    except (ConnectionError, ValueError, asyncio.CancelledError):
        pass
    finally:
        writer.close()
