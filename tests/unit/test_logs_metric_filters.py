"""Metric filters without a server: what a matching message hands a metric filter
(filter_pattern.compile_extractor) and the values a filter emits (MetricFilter.emit)."""

from __future__ import annotations

import gzip
import json

import pytest

from lamina.services.logs.filter_pattern import FilterPatternError, compile_extractor, pattern_kind
from lamina.services.logs.metric_filters import MetricFilter
from lamina.services.logs.subscriptions import event_id, gzipped_message

GROUP = "000000000000:us-east-1:/g"


def emitted(pattern: str, transformation: dict, messages: list[str], start_ms: int = 60_000 * 1000) -> list:
    doc = {
        "filterName": "f",
        "filterPattern": pattern,
        "metricTransformations": [{"metricName": "M", "metricNamespace": "N", **transformation}],
    }
    values: list = []
    record = MetricFilter.from_doc(GROUP, doc)
    record.emit(
        [(start_ms + i, m) for i, m in enumerate(messages)],
        lambda ns, name, dims, value, unit, ts, scope: values.append((dims, value, unit, scope)),
    )
    return values


def test_pattern_kinds():
    assert pattern_kind("{ $.a = 1 }") == "json"
    assert pattern_kind(" [a, b]") == "delimited"
    assert pattern_kind("ERROR") == pattern_kind("") == pattern_kind(None) == "terms"


def test_extractor_json_values():
    found = compile_extractor('{ $.level = "ERROR" }')('{"level": "ERROR", "n": 5, "a": {"b": [1, "x"]}, "t": true}')
    assert found is not None
    assert found.value("$.n") == "5" and found.number("$.n") == 5.0
    assert found.value("$.a.b[1]") == "x" and found.number("$.a.b[1]") is None
    assert found.value("$.t") == "true" and found.number("$.t") is None
    assert found.value("$.missing") is None and found.value("$bad") is None
    assert compile_extractor('{ $.level = "ERROR" }')('{"level": "INFO"}') is None
    assert compile_extractor('{ $.level = "ERROR" }')("not json") is None


def test_extractor_delimited_fields():
    extract = compile_extractor("[ip, user, ..., status = 5*, bytes]")
    found = extract("1.2.3.4 alice GET /x 503 120")
    assert found is not None
    assert found.value("$bytes") == "120" and found.number("$bytes") == 120.0
    assert found.extracted_values() == {"$ip": "1.2.3.4", "$user": "alice", "$status": "503", "$bytes": "120"}
    assert extract("1.2.3.4 alice GET /x 200 120") is None


def test_extractor_terms_and_errors():
    found = compile_extractor("ERROR")("an ERROR here")
    assert found is not None and found.extracted_values() == {} and found.value("$.x") is None
    assert compile_extractor("ERROR")("fine") is None
    with pytest.raises(FilterPatternError):
        compile_extractor("{ $.a = ")


def test_emit_values_dimensions_and_skips():
    values = emitted(
        "{ $.latency = * }",
        {"metricValue": "$.latency", "dimensions": {"Route": "$.route"}, "unit": "Milliseconds"},
        [
            '{"latency": 10, "route": "/a"}',
            '{"latency": "12.5", "route": "/b"}',  # a number in text counts
            '{"latency": "slow", "route": "/a"}',  # not a number: no value
            '{"latency": 7}',  # no dimension value: no value
            "plain",
        ],
    )
    assert values == [
        ({"Route": "/a"}, 10.0, "Milliseconds", ("us-east-1", "000000000000")),
        ({"Route": "/b"}, 12.5, "Milliseconds", ("us-east-1", "000000000000")),
    ]


def test_emit_default_value_once_per_minute_without_a_match():
    values = emitted("ERROR", {"metricValue": "1", "defaultValue": 0}, ["INFO a", "INFO b", "ERROR c", "INFO d"])
    assert [v[1] for v in values] == [0.0, 1.0]  # one default for the minute, then the match
    later = emitted("ERROR", {"metricValue": "2"}, ["ERROR", "ERROR"])
    assert [v[1] for v in later] == [2.0, 2.0]


def test_subscription_message_shape():
    data = gzipped_message("000000000000", "/g", "s", ["f"], [{"id": event_id(5), "timestamp": 5, "message": "m"}])
    message = json.loads(gzip.decompress(data))
    assert message["messageType"] == "DATA_MESSAGE" and message["subscriptionFilters"] == ["f"]
    ids = {event_id(5) for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 56 and i.isdigit() for i in ids)
