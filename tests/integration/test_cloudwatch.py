"""CloudWatch metrics against a live server, with boto3 (which speaks smithy-rpc-v2-cbor to
CloudWatch): PutMetricData read back through GetMetricStatistics, GetMetricData and
ListMetrics; AWS's errors; the AWS/Lambda metrics of real invocations; GET /metrics."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lamina.observability.recorder import FLUSH_INTERVAL_S
from tests.conftest import ROLE, make_zip
from tests.integration.test_lambda_helpers import metric_total, wait_until


@pytest.fixture
def cloudwatch(lamina):
    return lamina.client("cloudwatch")


@pytest.fixture
def namespace(unique_name):
    return f"Lamina/Test/{unique_name}"


def _minute(offset_minutes: int = 0) -> datetime:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now + timedelta(minutes=offset_minutes)


def _error(caught) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_put_then_get_metric_statistics(cloudwatch, namespace):
    start = _minute(-10)
    dims = [{"Name": "Route", "Value": "/orders"}]
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "Timestamp": start + timedelta(seconds=5),
                "Values": [float(v) for v in range(1, 101)],
                "Unit": "Milliseconds",
            },
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "Timestamp": start + timedelta(minutes=1, seconds=5),
                "Value": 500.0,
                "Unit": "Milliseconds",
            },
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "Timestamp": start + timedelta(minutes=2),
                "StatisticValues": {"SampleCount": 10, "Sum": 100, "Minimum": 5, "Maximum": 20},
                "Unit": "Milliseconds",
            },
        ],
    )
    answer = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        Dimensions=dims,
        StartTime=start,
        EndTime=_minute(1),
        Period=60,
        Statistics=["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
    )
    assert answer["Label"] == "Latency"
    points = sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])
    assert [(p["Timestamp"], p["SampleCount"], p["Sum"], p["Minimum"], p["Maximum"], p["Unit"]) for p in points] == [
        (start, 100, 5050, 1, 100, "Milliseconds"),
        (start + timedelta(minutes=1), 1, 500, 500, 500, "Milliseconds"),
        (start + timedelta(minutes=2), 10, 100, 5, 20, "Milliseconds"),
    ]
    assert points[0]["Average"] == 50.5

    percentiles = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        Dimensions=dims,
        StartTime=start,
        EndTime=_minute(1),
        Period=300,
        ExtendedStatistics=["p50", "p99", "p99.9"],
    )["Datapoints"]
    assert len(percentiles) == 1
    assert percentiles[0]["Timestamp"] == start
    assert percentiles[0]["ExtendedStatistics"] == {"p50": 51.0, "p99": 100.0, "p99.9": 500.0}

    # Another dimension set, or none, is another metric.
    assert (
        cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName="Latency",
            StartTime=start,
            EndTime=_minute(1),
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        == []
    )
    # A unit filter selects the values put in that unit.
    assert (
        cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName="Latency",
            Dimensions=dims,
            StartTime=start,
            EndTime=_minute(1),
            Period=60,
            Statistics=["Sum"],
            Unit="Seconds",
        )["Datapoints"]
        == []
    )


def test_get_metric_data_with_percentiles_order_and_paging(cloudwatch, namespace):
    start = _minute(-5)
    for minute in range(5):
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": "Work",
                    "Timestamp": start + timedelta(minutes=minute, seconds=1),
                    "Values": [1.0, 2.0, 3.0, 1000.0],
                    "Counts": [minute + 1.0, 1.0, 1.0, 1.0],
                    "Unit": "Count",
                },
            ],
        )
    metric = {"Namespace": namespace, "MetricName": "Work"}
    queries = [
        {"Id": "sum", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
        {"Id": "tail", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "p99"}, "Label": "p99 of work"},
        {"Id": "hidden", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"}, "ReturnData": False},
    ]
    answer = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=_minute(1))
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"sum", "tail"}
    summed = results["sum"]
    assert summed["StatusCode"] == "Complete" and summed["Label"] == "Work"
    assert summed["Timestamps"] == [start + timedelta(minutes=m) for m in (4, 3, 2, 1, 0)]  # newest first
    assert summed["Values"] == [1005.0 + m + 1 for m in (4, 3, 2, 1, 0)]
    assert results["tail"]["Label"] == "p99 of work" and results["tail"]["Values"] == [1000.0] * 5
    assert "NextToken" not in answer

    ascending = cloudwatch.get_metric_data(
        MetricDataQueries=queries[:1], StartTime=start, EndTime=_minute(1), ScanBy="TimestampAscending"
    )["MetricDataResults"][0]
    assert ascending["Timestamps"] == sorted(ascending["Timestamps"])

    seen: list[tuple[str, float]] = []
    token = None
    pages = 0
    while True:
        more = {"NextToken": token} if token else {}
        page = cloudwatch.get_metric_data(
            MetricDataQueries=queries, StartTime=start, EndTime=_minute(1), MaxDatapoints=3, **more
        )
        pages += 1
        for result in page["MetricDataResults"]:
            seen.extend((result["Id"], value) for value in result["Values"])
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= 3
        token = page.get("NextToken")
        if not token:
            break
        assert any(r["StatusCode"] == "PartialData" for r in page["MetricDataResults"])
    assert pages == 4 and len(seen) == 10

    paginator = cloudwatch.get_paginator("get_metric_data")
    values = [
        v
        for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=_minute(1), MaxDatapoints=4)
        for r in page["MetricDataResults"]
        for v in r["Values"]
    ]
    assert len(values) == 10


def test_list_metrics_filters_and_pages(cloudwatch, namespace):
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Items", "Dimensions": [{"Name": "Shard", "Value": f"{i:04d}"}], "Value": 1.0}
            for i in range(510)
        ]
        + [{"MetricName": "Other", "Value": 1.0}],
    )
    first = cloudwatch.list_metrics(Namespace=namespace)
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    second = cloudwatch.list_metrics(Namespace=namespace, NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 11 and "NextToken" not in second
    names = {
        (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for m in first["Metrics"] + second["Metrics"]
    }
    assert len(names) == 511 and ("Other", ()) in names

    only = cloudwatch.list_metrics(
        Namespace=namespace, MetricName="Items", Dimensions=[{"Name": "Shard", "Value": "0007"}]
    )["Metrics"]
    assert only == [{"Namespace": namespace, "MetricName": "Items", "Dimensions": [{"Name": "Shard", "Value": "0007"}]}]
    with_shard = cloudwatch.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Shard"}])
    assert all(m["MetricName"] == "Items" for m in with_shard["Metrics"])
    recent = cloudwatch.list_metrics(Namespace=namespace, MetricName="Other", RecentlyActive="PT3H")["Metrics"]
    assert len(recent) == 1
    assert cloudwatch.list_metrics(Namespace=namespace + "-none")["Metrics"] == []
    paginated = [
        m for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace) for m in page["Metrics"]
    ]
    assert len(paginated) == 511


def test_put_metric_data_errors(cloudwatch, namespace):
    cases = [
        (
            dict(Namespace="AWS/Lambda", MetricData=[{"MetricName": "M", "Value": 1.0}]),
            "InvalidParameterValue",
            "The value AWS/ for parameter Namespace is invalid.",
        ),
        (
            dict(
                Namespace=namespace,
                MetricData=[
                    {
                        "MetricName": "M",
                        "Value": 1.0,
                        "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1},
                    }
                ],
            ),
            "InvalidParameterCombination",
            "MetricData.member.1.Value and MetricData.member.1.StatisticValues",
        ),
        (
            dict(Namespace=namespace, MetricData=[{"MetricName": "M", "Values": [1.0, 2.0], "Counts": [1.0]}]),
            "InvalidParameterValue",
            "must be of the same size",
        ),
        (dict(Namespace=namespace, MetricData=[{"MetricName": "M"}]), "MissingParameter", "MetricData.member.1.Value"),
        (
            dict(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 1.0}] * 1001),
            "InvalidParameterValue",
            "1000",
        ),
        (
            dict(
                Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 1.0, "Timestamp": _minute(-60 * 24 * 15)}]
            ),
            "InvalidParameterValue",
            "two weeks",
        ),
        (
            dict(
                Namespace=namespace,
                MetricData=[
                    {
                        "MetricName": "M",
                        "Value": 1.0,
                        "Dimensions": [{"Name": "A", "Value": "1"}, {"Name": "A", "Value": "2"}],
                    }
                ],
            ),
            "InvalidParameterValue",
            "duplicated",
        ),
    ]
    for params, code, message in cases:
        with pytest.raises(ClientError) as caught:
            cloudwatch.put_metric_data(**params)
        assert _error(caught)[0] == code, params
        assert message in _error(caught)[1]
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Nothing of a refused request was kept.
    assert cloudwatch.list_metrics(Namespace=namespace)["Metrics"] == []
    # boto3's modelled exception classes match.
    with pytest.raises(cloudwatch.exceptions.InvalidParameterValueException):
        cloudwatch.put_metric_data(Namespace="AWS/X", MetricData=[{"MetricName": "M", "Value": 1.0}])


def test_query_errors(cloudwatch, namespace):
    start, end = _minute(-10), _minute(1)
    base = dict(Namespace=namespace, MetricName="M", StartTime=start, EndTime=end, Period=60)
    cases = [
        (dict(base), "InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics"),
        (dict(base, Period=90, Statistics=["Sum"]), "InvalidParameterValue", "Period"),
        (dict(base, StartTime=end, EndTime=start, Statistics=["Sum"]), "InvalidParameterValue", "StartTime"),
        (dict(base, StartTime=end - timedelta(days=2), Statistics=["Sum"]), "InvalidParameterCombination", "1440"),
        (dict(base, ExtendedStatistics=["p101"]), "InvalidParameterValue", "p101"),
    ]
    for params, code, message in cases:
        with pytest.raises(ClientError) as caught:
            cloudwatch.get_metric_statistics(**params)
        assert _error(caught)[0] == code, params
        assert message in _error(caught)[1]

    metric = {"Namespace": namespace, "MetricName": "M"}
    data_cases = [
        ([{"Id": "e1", "Expression": "SUM(METRICS())"}], "not supported by Lamina"),
        ([{"Id": "Bad", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}], "Id"),
        (
            [
                {"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
                {"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
            ],
            "duplicated",
        ),
        ([{"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Median"}}], "Median"),
        ([{"Id": "a"}], "MetricStat"),
    ]
    for queries, message in data_cases:
        with pytest.raises(ClientError) as caught:
            cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
        assert _error(caught)[0] == "ValidationError"
        assert message in _error(caught)[1]
    with pytest.raises(cloudwatch.exceptions.InvalidNextToken):
        cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "a", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}],
            StartTime=start,
            EndTime=end,
            NextToken="garbage!",
        )


def test_operations_not_served_yet_say_so(cloudwatch):
    with pytest.raises(ClientError) as caught:
        cloudwatch.list_metric_streams()
    assert "Lamina does not implement ListMetricStreams" in _error(caught)[1]


def test_invocations_show_up_as_aws_lambda_metrics(cloudwatch, lambda_client, create_function, unique_name):
    create_function()
    for _ in range(2):
        lambda_client.invoke(FunctionName=unique_name, Payload=b"{}")
    dims = [{"Name": "FunctionName", "Value": unique_name}]

    def sums():  # the engine hands its tallies to the recorder once a second
        stats = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            Dimensions=dims,
            StartTime=_minute(-5),
            EndTime=_minute(2),
            Period=600,
            Statistics=["Sum"],
        )["Datapoints"]
        return [p["Sum"] for p in stats]

    assert wait_until(lambda: sums() == [2.0], timeout=10), sums()
    listed = cloudwatch.list_metrics(
        Namespace="AWS/Lambda", Dimensions=[{"Name": "FunctionName", "Value": unique_name}]
    )["Metrics"]
    assert {"Invocations", "Duration", "Errors"} <= {m["MetricName"] for m in listed}


# --- GET /metrics ----------------------------------------------------------------------------

_LINE = re.compile(
    r"^(?:# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*"
    r"|# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|summary|histogram|untyped)"
    r'|[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? [-+]?(?:[0-9.eE+-]+|Inf|NaN))$'
)


def _scrape(lamina) -> tuple[str, str]:
    with urllib.request.urlopen(f"{lamina.url}/metrics", timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode()


def test_prometheus_endpoint(lamina, cloudwatch, lambda_client, create_function, unique_name):
    create_function()
    lambda_client.invoke(FunctionName=unique_name, Payload=b"{}")
    cloudwatch.put_metric_data(
        Namespace="Lamina/Prom",
        MetricData=[
            {
                "MetricName": "Requests",
                "Dimensions": [{"Name": "Route", "Value": unique_name}],
                "Value": 3.0,
                "Unit": "Count",
            },
        ],
    )
    line = f'lamina_lambda_invocations_total{{function="{unique_name}"}} 1'
    assert wait_until(lambda: line in _scrape(lamina)[1].splitlines(), timeout=10)
    content_type, text = _scrape(lamina)
    assert content_type.startswith("text/plain; version=0.0.4")
    types = {}
    for line in text.splitlines():
        assert _LINE.match(line), f"not valid exposition format: {line!r}"
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types
            types[name] = kind
    assert types["lamina_lambda_invocations_total"] == "counter"
    assert types["lamina_lambda_duration_seconds"] == "summary"
    assert f'lamina_lambda_invocations_total{{function="{unique_name}"}} 1' in text.splitlines()
    assert re.search(rf'^lamina_lambda_duration_seconds_count\{{function="{unique_name}"\}} 1$', text, re.M)
    assert f'lamina_lamina_prom_requests_total{{route="{unique_name}"}} 3' in text.splitlines()

    lambda_client.invoke(FunctionName=unique_name, Payload=b"{}")
    line = f'lamina_lambda_invocations_total{{function="{unique_name}"}} 2'
    assert wait_until(lambda: line in _scrape(lamina)[1].splitlines(), timeout=10)


def test_metrics_survive_a_restart(lamina_factory):
    server = lamina_factory()
    client = server.client("cloudwatch")
    start = _minute(-3)
    client.put_metric_data(
        Namespace="Lamina/Durable",
        MetricData=[
            {"MetricName": "Kept", "Timestamp": start, "Value": 2.0},
            {"MetricName": "Kept", "Timestamp": datetime.now(timezone.utc), "Value": 5.0},  # the minute in progress
        ],
    )
    server.restart(kill=False)  # a clean stop flushes every minute
    client = server.client("cloudwatch")
    points = client.get_metric_statistics(
        Namespace="Lamina/Durable",
        MetricName="Kept",
        StartTime=start,
        EndTime=_minute(2),
        Period=3600,
        Statistics=["Sum", "SampleCount"],
    )
    assert [(p["Sum"], p["SampleCount"]) for p in points["Datapoints"]] == [(7.0, 2.0)]
    assert len(client.list_metrics(Namespace="Lamina/Durable")["Metrics"]) == 1


def test_accepted_metric_data_survives_a_kill_9(lamina_factory):
    # PutMetricData's 200 comes after its datapoints are committed: every shape of datum,
    # in the past, now and ahead, of two accounts, is there once after a kill -9.
    server = lamina_factory(LAMINA_CREDENTIALS="test:test:000000000000,alice:alice-secret:111111111111")
    namespace = "Lamina/Kill9"
    now = taken = datetime.now(timezone.utc)
    # The minutes the data is put at, fixed once: a check a minute later must ask for these.
    three_ago, two_ago = _minute(-3), _minute(-2)
    client, theirs = server.client("cloudwatch"), _client_of(server, "alice", "alice-secret")
    route = [{"Name": "Route", "Value": "/a"}]
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Single", "Timestamp": now - timedelta(days=1), "Value": 7.0, "Unit": "Count"},
            {"MetricName": "Single", "Timestamp": three_ago, "Value": 2.0, "Unit": "Count"},
            {"MetricName": "Single", "Value": 5.0, "Unit": "Count"},  # now: the minute in progress
            {"MetricName": "Single", "Timestamp": now + timedelta(hours=1), "Value": 11.0, "Unit": "Count"},
            {
                "MetricName": "Set",
                "Timestamp": two_ago,
                "StatisticValues": {"SampleCount": 4, "Sum": 20, "Minimum": 2, "Maximum": 8},
                "Unit": "Milliseconds",
            },
        ],
    )
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Weighted", "Dimensions": route, "Values": [1, 2, 3], "Counts": [10, 1, 1], "Unit": "Count"}
        ],
    )
    theirs.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "Single", "Value": 100.0, "Unit": "Count"}])

    def burst(_):  # concurrent calls, sharing the store's group commit
        burst_client = server.client("cloudwatch")
        for _ in range(10):
            burst_client.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "Burst", "Value": 1.0}])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(burst, range(4)))

    server.restart(kill=True)  # no flush: what was answered 200 is in the store
    client, theirs = server.client("cloudwatch"), _client_of(server, "alice", "alice-secret")
    start, end = _minute(-2 * 24 * 60), _minute(3 * 60)

    def stats(cloudwatch, name: str, period: int, dimensions=()) -> list[dict]:
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=name,
            Dimensions=list(dimensions),
            StartTime=start,
            EndTime=end,
            Period=period,
            Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
        )["Datapoints"]
        return sorted(points, key=lambda point: point["Timestamp"])

    whole = int((end - start).total_seconds())
    for at, minutes, value in (
        (now - timedelta(days=1), 1, 7.0),
        (three_ago, 1, 2.0),
        (taken, 2, 5.0),  # by the server's clock, a little later than ours
        (now + timedelta(hours=1), 1, 11.0),
    ):
        first = at.replace(second=0, microsecond=0)
        points = client.get_metric_statistics(
            Namespace=namespace,
            MetricName="Single",
            StartTime=first,
            EndTime=first + timedelta(minutes=minutes),
            Period=60 * minutes,
            Statistics=["Sum"],
        )["Datapoints"]
        assert [p["Sum"] for p in points] == [value], at
    [single] = stats(client, "Single", whole)
    assert (single["SampleCount"], single["Sum"], single["Unit"]) == (4, 25.0, "Count")
    [single] = stats(theirs, "Single", whole)
    assert (single["SampleCount"], single["Sum"]) == (1, 100.0)
    [stat_set] = stats(client, "Set", whole)
    assert [stat_set[k] for k in ("SampleCount", "Sum", "Minimum", "Maximum", "Unit")] == [
        4,
        20,
        2,
        8,
        "Milliseconds",
    ]
    [weighted] = stats(client, "Weighted", whole, route)
    assert [weighted[k] for k in ("SampleCount", "Sum", "Minimum", "Maximum")] == [12, 15, 1, 3]
    [weighted] = client.get_metric_statistics(
        Namespace=namespace,
        MetricName="Weighted",
        Dimensions=route,
        StartTime=start,
        EndTime=end,
        Period=whole,
        ExtendedStatistics=["p50", "p95"],
    )["Datapoints"]
    assert weighted["ExtendedStatistics"] == {"p50": 1.0, "p95": 3.0}
    [burst_point] = stats(client, "Burst", whole)
    assert (burst_point["SampleCount"], burst_point["Sum"]) == (40, 40.0)

    results = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "single",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": "Single"},
                    "Period": whole,
                    "Stat": "Sum",
                },
            },
            {
                "Id": "weighted",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": "Weighted", "Dimensions": route},
                    "Period": whole,
                    "Stat": "SampleCount",
                },
            },
        ],
        StartTime=start,
        EndTime=end,
    )["MetricDataResults"]
    assert [(r["Id"], r["Values"]) for r in results] == [("single", [25.0]), ("weighted", [12.0])]
    listed = client.list_metrics(Namespace=namespace)["Metrics"]
    assert sorted((m["MetricName"], tuple(d["Value"] for d in m["Dimensions"])) for m in listed) == [
        ("Burst", ()),
        ("Set", ()),
        ("Single", ()),
        ("Weighted", ("/a",)),
    ]
    assert [m["MetricName"] for m in theirs.list_metrics(Namespace=namespace)["Metrics"]] == ["Single"]


def test_lambda_metrics_older_than_the_flush_interval_survive_a_kill_9(lamina_factory):
    server = lamina_factory()
    lambda_client = server.client("lambda")
    lambda_client.create_function(
        FunctionName="counted",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return event\n"})},
    )
    for _ in range(3):
        lambda_client.invoke(FunctionName="counted", Payload=b"{}")
    # The engine tallies for a second, then the recorder writes every minute it holds, the
    # one in progress included, each FLUSH_INTERVAL_S.
    time.sleep(FLUSH_INTERVAL_S + 2.5)
    server.restart(kill=True)
    cloudwatch = server.client("cloudwatch")
    assert metric_total(cloudwatch, "Invocations", {"FunctionName": "counted"}) == 3
    assert metric_total(cloudwatch, "Duration", {"FunctionName": "counted"}, "SampleCount") == 3


def _client_of(server, key: str, secret: str):
    return boto3.client(
        "cloudwatch",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


# --- the CBOR wire format (what botocore 1.40-1.43 sends CloudWatch) --------------------------


def _cbor_call(lamina, operation: str, params: dict, gzipped: bool = False) -> tuple[int, dict]:
    """One call over smithy-rpc-v2-cbor, built, signed and read by botocore's own classes."""
    import gzip

    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import create_request_object, prepare_request_dict
    from botocore.credentials import Credentials
    from botocore.parsers import create_parser
    from botocore.serialize import create_serializer

    model = botocore.session.get_session().get_service_model("cloudwatch")
    op = model.operation_model(operation)
    request_dict = create_serializer("smithy-rpc-v2-cbor").serialize_to_request(params, op)
    if gzipped:
        request_dict["body"] = gzip.compress(request_dict["body"])
        request_dict["headers"]["Content-Encoding"] = "gzip"
    prepare_request_dict(request_dict, endpoint_url=lamina.url)
    aws_request = create_request_object(request_dict)
    SigV4Auth(Credentials("test", "test"), "monitoring", "us-east-1").add_auth(aws_request)
    prepared = aws_request.prepare()
    http_request = urllib.request.Request(
        prepared.url, data=prepared.body, method=prepared.method, headers=dict(prepared.headers)
    )
    try:
        with urllib.request.urlopen(http_request, timeout=30) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    from urllib3._collections import HTTPHeaderDict

    header_dict = HTTPHeaderDict()
    for name, value in headers.items():
        header_dict.add(name.lower(), value)
    if status < 300:
        assert header_dict["content-type"] == "application/cbor"
    parsed = create_parser("smithy-rpc-v2-cbor").parse(
        {"status_code": status, "headers": header_dict, "body": body, "context": {"operation_name": operation}},
        op.output_shape,
    )
    return status, parsed


def test_the_cbor_wire_format_end_to_end(lamina, namespace):
    start = _minute(-2)
    status, _ = _cbor_call(
        lamina,
        "PutMetricData",
        {
            "Namespace": namespace,
            "MetricData": [{"MetricName": "Cbor", "Timestamp": start, "Values": [1.0, 2.0, 3.0], "Unit": "Seconds"}],
        },
    )
    assert status == 200
    status, _ = _cbor_call(
        lamina,
        "PutMetricData",
        {
            "Namespace": namespace,
            "MetricData": [{"MetricName": "Cbor", "Timestamp": start, "Value": 4.0, "Unit": "Seconds"}],
        },
        gzipped=True,
    )
    assert status == 200
    status, answer = _cbor_call(
        lamina,
        "GetMetricStatistics",
        {
            "Namespace": namespace,
            "MetricName": "Cbor",
            "StartTime": start,
            "EndTime": _minute(1),
            "Period": 60,
            "Statistics": ["Sum", "SampleCount"],
        },
    )
    assert status == 200
    assert [(p["Timestamp"], p["Sum"], p["SampleCount"], p["Unit"]) for p in answer["Datapoints"]] == [
        (start, 10.0, 4.0, "Seconds")
    ]
    status, answer = _cbor_call(
        lamina,
        "GetMetricData",
        {
            "MetricDataQueries": [
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {"Namespace": namespace, "MetricName": "Cbor"},
                        "Period": 60,
                        "Stat": "p50",
                    },
                }
            ],
            "StartTime": start,
            "EndTime": _minute(1),
        },
    )
    assert answer["MetricDataResults"][0]["Timestamps"] == [start]
    assert answer["MetricDataResults"][0]["Values"] == [2.0]
    status, answer = _cbor_call(
        lamina, "PutMetricData", {"Namespace": "AWS/EC2", "MetricData": [{"MetricName": "X", "Value": 1.0}]}
    )
    assert status == 400
    assert answer["Error"]["Code"] == "InvalidParameterValue"
    assert answer["Error"]["QueryErrorCode"] == "InvalidParameterValueException"
