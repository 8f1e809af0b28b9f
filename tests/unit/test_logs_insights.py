"""The Logs Insights language without a server: parsing (and AWS's error locations),
expressions, functions, the commands, discovered fields."""

from __future__ import annotations

import json

import pytest

from lamina.services.logs.insights import syntax as s
from lamina.services.logs.insights.evaluate import QueryCompileError, compile_expr
from lamina.services.logs.insights.fields import parse_pointer, pointer, record_of
from lamina.services.logs.insights.parser import QuerySyntaxError, parse_query
from lamina.services.logs.insights.pipeline import Pipeline
from lamina.store.base import StoredLogEvent

BASE = 1_700_000_000_000
REPORT = (
    "REPORT RequestId: 3f5e1a2b-1111-2222-3333-444455556666\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 100.25 ms\t"
)
MESSAGES = [
    "START RequestId: 3f5e1a2b-1111-2222-3333-444455556666 Version: $LATEST",
    "user=bob action=login status=200",
    json.dumps({"level": "INFO", "n": 3, "a": {"b": [1, 2]}, "user": "ann"}),
    "user=ann action=upload status=500",
    REPORT,
]


def run(query: str, messages: list[str] = MESSAGES, limit: int = 10_000) -> list[dict[str, str]]:
    pipeline = Pipeline(parse_query(query), limit)
    for index, message in enumerate(messages):
        event = StoredLogEvent(index + 1, "stream", BASE + index * 60_000, BASE + index * 60_000 + 5, message)
        pipeline.feed(record_of(event, "000000000000:us-east-1:g", "000000000000:g"))
    pipeline.finish()
    return [{item["field"]: item["value"] for item in row if item["field"] != "@ptr"} for row in pipeline.results()]


def value(expression: str, record: dict | None = None):
    (command,) = parse_query(f"fields {expression} as v")
    assert isinstance(command, s.Fields)
    return compile_expr(command.items[0].expr)(record or {})


# parsing


def test_commands_parse_into_their_parts():
    commands = parse_query(
        "fields @timestamp, @message | filter x > 1 | stats count(*) as n by bin(5m), user | sort n desc | limit 5"
    )
    assert [type(command).__name__ for command in commands] == ["Fields", "Filter", "Stats", "Sort", "Limit"]
    stats = commands[2]
    assert [item.name for item in stats.items] == ["n"]
    assert [group.name for group in stats.groups] == ["bin(5m)", "user"]
    assert stats.groups[0].expr == s.Call("bin", (s.Duration("5m", 300_000),))
    assert commands[3].keys[0].descending is True


def test_keywords_are_case_insensitive_and_comments_ignored():
    commands = parse_query("FIELDS a # the field\n| Filter a = 1 AND b != 2")
    assert isinstance(commands[1].condition, s.Binary) and commands[1].condition.op == "and"


def test_regex_and_division_are_told_apart():
    (command,) = parse_query("filter a / 2 > 1 and b like /x\\/y/i")
    left, right = command.condition.left, command.condition.right
    assert left.left == s.Binary("/", s.Field("a"), s.Literal(2))
    assert right.pattern == s.Regex("x/y", "i")


@pytest.mark.parametrize(
    ("query", "message", "start"),
    [
        ("fields @message | filter x ==== 2", "unexpected symbol found = at line 1 and position 29", 28),
        ("fields a | bogus x", "unexpected symbol found bogus at line 1 and position 12", 11),
        ("fields a |", "unexpected end of query", 9),
        ("filter x = 'a' ~", "unexpected symbol found ~ at line 1 and position 16", 15),
    ],
)
def test_syntax_errors_say_where(query, message, start):
    with pytest.raises(QuerySyntaxError) as error:
        parse_query(query)
    assert (error.value.message, error.value.start) == (message, start)


@pytest.mark.parametrize(
    "query", ["fields nosuch(a)", "filter count(*) > 1", "stats a", "parse @message 'a=* b=*' as a", "stats sum(*)"]
)
def test_queries_that_cannot_run_are_refused(query):
    with pytest.raises(QueryCompileError):
        Pipeline(parse_query(query))


# expressions and functions


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("2 ^ 3 ^ 2", 512),
        ("7 % 4", 3),
        ("-x", -5),
        ("x / 0", None),
        ("missing + 1", None),
        ('concat("a", x, "b")', "a5b"),
        ('strlen("hello")', 5),
        ('toupper("ab")', "AB"),
        ('trim("  a ")', "a"),
        ('substr("hello", 1, 3)', "ell"),
        ('replace("a-b-c", "-", "+")', "a+b+c"),
        ('strcontains("hello", "ell")', 1),
        ("isempty(missing)", True),
        ("ispresent(x)", True),
        ("abs(-3)", 3),
        ("ceil(1.2)", 2),
        ("floor(1.8)", 1),
        ("greatest(1, 9, 4)", 9),
        ("least(3, 2)", 2),
        ("sqrt(16)", 4.0),
        ("coalesce(missing, 7)", 7),
        ('isValidIp("10.0.0.1")', True),
        ('isIpv4InSubnet("10.0.0.1", "10.0.0.0/8")', True),
        ('isValidIpV6("10.0.0.1")', False),
        ("x > 4 and text = '200'", True),
        ("text > 150", True),
        ("x in [1, 5]", True),
        ("x not in [1, 5]", False),
        ('text like "20"', True),
        ("text =~ /^2\\d\\d$/", True),
        ("not missing = 1", True),
        ("missing != 1", False),
    ],
)
def test_expression_values(expression, expected):
    assert value(expression, {"x": 5, "text": "200"}) == expected


def test_datetime_functions():
    record = {"@timestamp": BASE + 123_456}
    assert value("bin(1h)", record) == (BASE + 123_456) // 3_600_000 * 3_600_000
    assert value("datefloor(@timestamp, 1m)", record) == (BASE + 123_456) // 60_000 * 60_000
    assert value("dateceil(@timestamp, 1m)", record) == ((BASE + 123_456) // 60_000 + 1) * 60_000
    assert value("toMillis(fromMillis(1000))") == 1000


# discovered fields


def test_lambda_report_fields_are_discovered():
    record = record_of(StoredLogEvent(7, "s", BASE, BASE, REPORT), "k", "000000000000:g")
    assert record["@type"] == "REPORT"
    assert record["@requestId"] == "3f5e1a2b-1111-2222-3333-444455556666"
    assert record["@duration"] == 12.5 and record["@billedDuration"] == 13
    assert record["@memorySize"] == 128_000_000 and record["@maxMemoryUsed"] == 40_000_000
    assert record["@initDuration"] == 100.25
    assert parse_pointer(record["@ptr"]) == ("k", 7) and parse_pointer(pointer("k", 7)) == ("k", 7)


def test_json_fields_are_flattened_with_dots():
    record = record_of(StoredLogEvent(1, "s", BASE, BASE, MESSAGES[2]), "k", "l")
    assert (record["level"], record["a.b.0"], record["a.b.1"]) == ("INFO", 1, 2)


# commands


def test_fields_sort_limit():
    assert run("fields @message | filter @message like 'user=' | sort @timestamp desc | limit 1") == [
        {"@message": "user=ann action=upload status=500"}
    ]


def test_results_without_fields_show_every_field():
    (row,) = run("filter level = 'INFO'")
    assert {"@timestamp", "@message", "@logStream", "@log", "@ingestionTime", "level", "a.b.0"} <= set(row)
    assert row["@timestamp"] == "2023-11-14 22:15:20.000"


def test_stats_aggregates():
    rows = run(
        "parse @message 'status=*' as status | filter ispresent(status) | stats count(*) as n, sum(status) as total, "
        "avg(status) as mean, min(status), max(status), stddev(status) as sd, pct(status, 50) as p50, "
        "count_distinct(status) as kinds, earliest(@message) as first, latest(@message) as last, "
        "sortsFirst(status) as low, sortsLast(status) as high"
    )
    assert rows == [
        {
            "n": "2",
            "total": "700",
            "mean": "350",
            "min(status)": "200",
            "max(status)": "500",
            "sd": "212.13203435596427",
            "p50": "200",
            "kinds": "2",
            "first": "user=bob action=login status=200",
            "last": "user=ann action=upload status=500",
            "low": "200",
            "high": "500",
        }
    ]


def test_stats_by_groups_then_later_commands():
    rows = run("parse @message 'user=* ' as user | stats count(*) by user | sort user asc")
    # events without the field form a group of their own, shown without it
    assert rows == [{"user": "ann", "count(*)": "1"}, {"user": "bob", "count(*)": "1"}, {"count(*)": "3"}]
    assert run("stats count(*) as n by bin(5m) | sort n desc | limit 1") == [
        {"bin(5m)": "2023-11-14 22:15:00.000", "n": "3"}
    ]
    assert run("stats count(*) by @type | sort count(*) desc | limit 1") == [{"count(*)": "3"}]


def test_stats_over_nothing_counts_zero():
    assert run("filter nothing = 1 | stats count(*)") == [{"count(*)": "0"}]


def test_report_stats():
    assert run('filter @type = "REPORT" | stats avg(@duration) as d, max(@maxMemoryUsed / 1000 / 1000) as m') == [
        {"d": "12.5", "m": "40"}
    ]


def test_parse_regex_display_dedup():
    assert run(r"parse @message /action=(?<act>\w+)/ | filter ispresent(act) | display act") == [
        {"act": "login"},
        {"act": "upload"},
    ]
    assert len(run("parse @message 'user=* ' as user | filter ispresent(user) | dedup user")) == 2
    assert run("fields @type | dedup @type | filter ispresent(@type)") == [{"@type": "START"}, {"@type": "REPORT"}]


def test_sort_by_several_keys_and_missing_values_last():
    messages = [json.dumps({"a": a, "b": b}) for a, b in [(1, 2), (2, 1), (1, 3)]] + ["no fields"]
    assert run("fields a, b | sort a asc, b desc", messages) == [
        {"a": "1", "b": "3"},
        {"a": "1", "b": "2"},
        {"a": "2", "b": "1"},
        {},
    ]


def test_the_limit_parameter_caps_results():
    assert len(run("fields @message", limit=2)) == 2


def test_records_matched_counts_before_the_limit():
    pipeline = Pipeline(parse_query("filter @message like 'user=' | limit 1"))
    for index, message in enumerate(MESSAGES):
        pipeline.feed(record_of(StoredLogEvent(index, "s", BASE, BASE, message), "k", "l"))
    pipeline.finish()
    assert pipeline.matched == 2 and len(pipeline.results()) == 1
