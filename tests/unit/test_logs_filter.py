"""CloudWatch Logs filter patterns: terms, JSON and space-delimited forms, and invalid ones."""

import json

import pytest

from lamina.services.logs.filter_pattern import FilterPatternError, compile_pattern, matches

LINE = "2024-05-01T10:00:00Z [ERROR] Exiting with ERRORCODE: -1 (request a1b2)"


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("", True),
        ("   ", True),
        ("ERROR", True),
        ("ERRORCODE", True),
        ("error", False),  # case-sensitive
        ("ERROR Exiting", True),  # all terms
        ("ERROR WARN", False),
        ("?WARN ?Exiting", True),  # any of
        ("?WARN ?DEBUG", False),
        ("ERROR -WARN", True),  # exclusion
        ("ERROR -Exiting", False),
        ("-WARN", True),
        ("-ERROR", False),
        ('"Exiting with ERRORCODE"', True),  # exact phrase
        ('"Exiting ERRORCODE"', False),
        ('"ERRORCODE: -1"', True),
        ('ERROR -"request a1b2"', False),
        ('?"no such thing" ?"request a1b2"', True),
        ('" "', True),  # AWS's way of writing "everything"
        ("%ERRORCODE: -[0-9]+%", True),
        ("%^2024-05%", True),
        ("%^ERROR%", False),
        ("?%WARN% ?%req[a-z]+%", True),
        ("ERROR ?WARN ?Exiting -DEBUG", True),
        ("ERROR ?WARN ?INFO", False),
    ],
)
def test_terms(pattern, expected):
    assert matches(pattern, LINE) is expected


def test_quoted_phrase_with_escaped_quote():
    assert matches(r'"say \"hi\""', 'they say "hi" loudly')
    assert not matches(r'"say \"hi\""', "they say hi loudly")


EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "eventSource": "cloudtrail.amazonaws.com",
        "sourceIPAddress": "123.123.9.1",
        "latency": 75,
        "ratio": 0.5,
        "error": False,
        "ok": True,
        "nothing": None,
        "user": {"id": 1, "name": "Ana", "tags": ["a", "b"]},
        "objectList": [{"id": 1, "name": "x"}, {"id": 2, "name": "y"}],
        "code": "404",
    }
)


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ('{ $.eventType = "UpdateTrail" }', True),
        ("{ $.eventType = UpdateTrail }", True),  # unquoted string
        ('{ $.eventType = "updatetrail" }', False),
        ('{ $.eventType != "UpdateTrail" }', False),
        ('{ $.eventType != "CreateTrail" }', True),
        ('{ $.missing != "x" }', False),  # a comparison needs the field
        ('{ $.eventSource = "*.amazonaws.com" }', True),  # wildcards
        ('{ $.eventSource = "cloud*" }', True),
        ('{ $.eventSource = "trail*" }', False),
        ("{ $.sourceIPAddress != 123.123.* }", False),
        ("{ $.sourceIPAddress = 123.123.* }", True),
        ("{ $.latency > 50 }", True),
        ("{ $.latency >= 75 }", True),
        ("{ $.latency < 75 }", False),
        ("{ $.latency <= 75 }", True),
        ("{ $.latency = 75 }", True),
        ("{ $.latency = 75.0 }", True),
        ("{ $.latency != 75 }", False),
        ("{ $.ratio < 1e0 }", True),
        ("{ $.code = 404 }", True),  # a number against a string field compares the text
        ("{ $.code > 400 }", False),  # but ordering needs a number
        ("{ $.user.id = 1 }", True),
        ('{ $.user.name = "Ana" }', True),
        ('{ $.user.tags[1] = "b" }', True),
        ('{ $.user.tags[5] = "b" }', False),
        ("{ $.objectList[1].id = 2 }", True),
        ('{ $.objectList[*].name = "y" }', True),
        ('{ $.objectList[*].name = "z" }', False),
        ("{ $.ok IS TRUE }", True),
        ("{ $.ok IS FALSE }", False),
        ("{ $.error IS FALSE }", True),
        ("{ $.nothing IS NULL }", True),
        ("{ $.user IS NULL }", False),
        ("{ $.missing IS NULL }", False),
        ("{ $.missing NOT EXISTS }", True),
        ("{ $.user.id NOT EXISTS }", False),
        ('{ $.eventType = "*" }', True),  # exists
        ("{ $.eventType = %Update[A-Z]% }", True),  # regex
        ("{ $.eventType = %^Trail% }", False),
        ('{ $.latency > 50 && $.eventType = "UpdateTrail" }', True),
        ('{ $.latency > 100 && $.eventType = "UpdateTrail" }', False),
        ('{ $.latency > 100 || $.eventType = "UpdateTrail" }', True),
        ('{ ($.user.id = 2 && $.ok IS TRUE) || $.objectList[0].name = "x" }', True),
        ('{ ($.user.id = 2 || $.ok IS TRUE) && $.objectList[0].name = "q" }', False),
        ("{ $.user.id = 2 || $.ok IS TRUE && $.latency < 0 }", False),  # && binds tighter
        ("{ (($.latency = 75)) }", True),
    ],
)
def test_json(pattern, expected):
    assert matches(pattern, EVENT) is expected


def test_json_pattern_never_matches_text_or_broken_json():
    assert not matches('{ $.a = "x" }', 'a = "x"')
    assert not matches('{ $.a = "x" }', '{"a": "x"')
    assert not matches("{ $.a NOT EXISTS }", "plain text")
    assert matches('{ $.a = "x" }', '  {"a": "x"}\n')


def test_json_selector_on_top_level_array_and_quoted_key():
    assert matches("{ $[1] = 2 }", "[1, 2, 3]")
    assert matches("{ $.['a b'] = 1 }", '{"a b": 1}')


ACCESS = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("[ip, user, username, timestamp, request, status_code, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code]", False),  # field count must agree
        ("[ip, user, username, timestamp, request, status_code = 404, bytes]", True),
        ("[ip, user, username, timestamp, request, status_code = 200, bytes]", False),
        ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", True),
        ('[ip, user, username = "frank", ...]', True),
        ("[ip = 127.0.0.*, ...]", True),
        ("[ip = 10.*, ...]", False),
        ("[..., status_code, bytes > 1000]", True),
        ("[..., status_code, bytes < 1000]", False),
        ("[..., status_code = 5* || status_code = 4*, bytes]", True),
        ("[..., status_code = 4* && status_code != 404, bytes]", False),
        ("[ip, ..., bytes]", True),
        ("[...]", True),
        ("[ip, user, ..., status_code >= 400, bytes]", True),
        ("[ip, ..., timestamp = *2000*, ...]", True),
        ("[ip, user, username, timestamp = %Oct/20[0-9]+%, ...]", True),
    ],
)
def test_space_delimited(pattern, expected):
    assert matches(pattern, ACCESS) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        '"unterminated',
        "?",
        "ERROR -",
        'a"b',
        '"a"b',
        "%unterminated",
        "%(%",
        "{ $.a = }",
        '{ $.a = "x"',
        "{ a = 1 }",
        "{ $.a > big }",
        "{ $.a IS MAYBE }",
        "{ $.a NOT THERE }",
        "{ $. = 1 }",
        "{ $ = 1 }",
        '{ $.a = "x" } trailing',
        "{ $.a = 1 & $.b = 2 }",
        "{ ($.a = 1 }",
        "[a, b",
        "[a, = 4]",
        "[]",
        "[a b]",
        "[a, b > x]",
    ],
)
def test_invalid_patterns_are_rejected(pattern):
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)


def test_compiled_patterns_are_reused():
    assert compile_pattern("ERROR ?x") is compile_pattern("ERROR ?x")
