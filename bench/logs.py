"""CloudWatch Logs filters: what a metric filter costs per 1,000 log lines, and what a
subscription filter on a function's log group costs that function's warm invokes.

    .venv/bin/python bench/logs.py [--quick]

1. In process (no server): a metric filter's matching and value extraction over 1,000 lines,
   for a terms pattern counting "ERROR", a JSON pattern taking $.latency with a $.route
   dimension, and a space-delimited pattern taking $bytes; the values go to a real
   MetricsRecorder (memory only).
2. On a server: PutLogEvents of 1,000 JSON lines to a group without filters and to one with
   the JSON metric filter above, alternating blocks.
3. On the same server: warm synchronous Invokes of two identical functions that print one
   line each, one whose log group has a subscription filter (every line, START/END/REPORT
   included, delivered in batches to a third function) and one without, alternating blocks
   on one keep-alive connection each (target: ≤ 5% slower with the subscription).
Prints the machine and one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))

from _common import (  # noqa: E402
    Cleanup,
    LaminaServer,
    Row,
    SignedRequest,
    Summary,
    Table,
    boto3_client,
    create_function,
    invoke_request,
    lamina_revision,
    log,
    machine_line,
    measure_calls,
    ms,
    scratch_dir,
)

PRINTER = "def handler(e, c):\n    print('one line from the handler')\n    return e\n"
SUBSCRIBER = "def handler(e, c):\n    return None\n"
GROUP_KEY = "000000000000:us-east-1:/bench/inprocess"


def lines(count: int) -> list[tuple[int, str]]:
    now = int(time.time() * 1000)
    routes = ("/a", "/b", "/c")
    return [
        (
            now + i,
            json.dumps({"level": "ERROR" if i % 10 == 0 else "INFO", "latency": i % 250, "route": routes[i % 3]}),
        )
        for i in range(count)
    ]


def delimited_lines(count: int) -> list[tuple[int, str]]:
    now = int(time.time() * 1000)
    return [
        (now + i, f"10.0.0.{i % 250} user{i % 7} GET {200 if i % 5 else 500} {i * 13 % 9000}") for i in range(count)
    ]


def in_process(rounds: int) -> list[tuple[str, Summary]]:
    from lamina.observability.recorder import MetricsRecorder
    from lamina.services.logs.metric_filters import MetricFilter

    recorder = MetricsRecorder()

    def put(namespace, name, dims, value, unit, timestamp_ms, scope) -> None:
        recorder.put(namespace, name, dims, value, unit, timestamp_ms / 1000, scope=scope)

    def metric_filter(pattern: str, value: str, dimensions: dict | None = None) -> MetricFilter:
        transformation: dict = {"metricName": "M", "metricNamespace": "Bench", "metricValue": value}
        if dimensions:
            transformation["dimensions"] = dimensions
        doc = {"filterName": "f", "filterPattern": pattern, "metricTransformations": [transformation]}
        return MetricFilter.from_doc(GROUP_KEY, doc)

    cases = [
        ('terms "ERROR", value 1', metric_filter("ERROR", "1"), lines(1000)),
        (
            "JSON { $.latency > 0 }, value $.latency, dimension $.route",
            metric_filter("{ $.latency > 0 }", "$.latency", {"Route": "$.route"}),
            lines(1000),
        ),
        (
            "space-delimited [ip, user, method, status, bytes], value $bytes",
            metric_filter("[ip, user, method, status, bytes]", "$bytes"),
            delimited_lines(1000),
        ),
    ]
    results = []
    for label, record, events in cases:
        summary = Summary()
        record.emit(events, put)  # warm
        for _ in range(rounds):
            started = time.perf_counter()
            record.emit(events, put)
            summary.samples.append((time.perf_counter() - started) * 1000)
        results.append((label, summary))
    return results


def put_log_events_request(url: str, group: str, stream: str, count: int) -> SignedRequest:
    events = [{"timestamp": ts, "message": message} for ts, message in lines(count)]
    body = json.dumps({"logGroupName": group, "logStreamName": stream, "logEvents": events}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.PutLogEvents"}
    return SignedRequest(url, "POST", "/", body, headers, service="logs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, rounds, put_count = (500, 3, 40) if args.quick else (2000, 5, 150)
    print(f"Machine: {machine_line()}")
    print(f"Lamina: commit {lamina_revision()}")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; mode: {'quick' if args.quick else 'full'}", flush=True)
    table = Table()

    log("metric filters in process")
    for label, summary in in_process(50 if args.quick else 300):
        table.add(
            Row(
                "1",
                f"Metric filter over 1,000 lines, {label}",
                "Lamina (in process)",
                str(summary.n),
                ms(summary.p50),
                ms(summary.p99),
                f"{summary.p50:.2f} µs per line (p50)",
            )
        )

    with Cleanup() as cleanup:
        lamina = LaminaServer(os.path.join(scratch_dir(cleanup, "lamina-bench-logs-"), "lamina")).start(cleanup)
        lam, logs = boto3_client(lamina.url, "lambda"), boto3_client(lamina.url, "logs")

        log("PutLogEvents with and without a metric filter")
        for group in ("/bench/plain", "/bench/filtered"):
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_metric_filter(
            logGroupName="/bench/filtered",
            filterName="latency",
            filterPattern="{ $.latency > 0 }",
            metricTransformations=[
                {
                    "metricName": "Latency",
                    "metricNamespace": "Bench",
                    "metricValue": "$.latency",
                    "dimensions": {"Route": "$.route"},
                }
            ],
        )
        puts = {group: Summary() for group in ("/bench/plain", "/bench/filtered")}
        for _ in range(rounds):
            for group, summary in puts.items():
                request = put_log_events_request(lamina.url, group, "s", 1000)
                summary.samples.extend(measure_calls(request, put_count).samples)
        for group, label in (("/bench/plain", "no filter"), ("/bench/filtered", "JSON metric filter with a dimension")):
            s = puts[group]
            extra = s.p50 - puts["/bench/plain"].p50
            table.add(
                Row(
                    "2",
                    f"PutLogEvents, 1,000 JSON lines, {label}",
                    "Lamina",
                    str(s.n),
                    ms(s.p50),
                    ms(s.p99),
                    f"{1000 / s.mean:.1f} calls/s",
                    "" if group == "/bench/plain" else f"+{extra:.2f} ms per 1,000 lines (p50)",
                )
            )

        log("warm invokes with and without a subscription filter")
        subscriber = create_function(lam, "subscriber", SUBSCRIBER)["FunctionArn"]
        for name in ("subscribed", "plain"):
            create_function(lam, name, PRINTER, memory_mb=1769)
        logs.create_log_group(logGroupName="/aws/lambda/subscribed")
        lam.add_permission(
            FunctionName="subscriber",
            StatementId="logs",
            Action="lambda:InvokeFunction",
            Principal="logs.amazonaws.com",
            SourceArn="arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/subscribed:*",
        )
        logs.put_subscription_filter(
            logGroupName="/aws/lambda/subscribed", filterName="all", filterPattern="", destinationArn=subscriber
        )
        results = {"plain": Summary(), "subscribed": Summary()}
        for name in results:
            measure_calls(invoke_request(lamina.url, name), 200)  # warm: the instance, the connection
        for _ in range(rounds):
            for name, summary in results.items():
                summary.samples.extend(measure_calls(invoke_request(lamina.url, name), count).samples)
        rates = {name: 1000.0 / s.mean for name, s in results.items()}
        delivered = sum(
            1
            for event in logs.filter_log_events(logGroupName="/aws/lambda/subscriber", filterPattern="START")["events"]
        )
        for name, label in (("plain", "no filter on its group"), ("subscribed", "a subscription filter on its group")):
            s = results[name]
            slower = rates["plain"] / rates[name] - 1
            table.add(
                Row(
                    "3",
                    f"Warm sync Invoke printing one line, {label}, lean client",
                    "Lamina",
                    str(s.n),
                    ms(s.p50),
                    ms(s.p99),
                    f"{rates[name]:.0f} calls/s on one connection",
                    "" if name == "plain" else f"≤ 5% slower: {'met' if slower <= 0.05 else 'missed'} ({slower:.1%})",
                    "" if name == "plain" else f"{rates[name] / rates['plain']:.2f}x; {delivered}+ subscriber runs",
                )
            )
    print()
    print(table.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
