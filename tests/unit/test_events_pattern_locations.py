"""Where an invalid event pattern went wrong, as EventBridge appends it to the reason: the
cases recorded from AWS's own answers (column after the offending token, strings read lazily)."""

from __future__ import annotations

import pytest

from lamina.patterns import InvalidPattern, compile_pattern
from lamina.services.events.rules import invalid_pattern

RECORDED = [
    (
        '{"source": ["aws.health"], "detail": {}}',
        'Empty objects are not allowed at [Source: (String)"{"source": ["aws.health"], "detail": {}}"; '
        "line: 1, column: 40]",
    ),
    (
        '{"detail-type":["X"],"resources":"arn:aws:codecommit:eu-west-1:123456789012:r","source":["aws.x"]}',
        '"resources" must be an object or an array at [Source: (String)"{"detail-type":["X"],"resources":'
        '"arn:aws:codecommit:eu-west-1:123456789012:r","source":["aws.x"]}"; line: 1, column: 35]',
    ),
    ('{"a": 1}', '"a" must be an object or an array at [Source: (String)"{"a": 1}"; line: 1, column: 8]'),
    (
        '{\n  "a": {\n    "b": "c"\n  }\n}',
        '"b" must be an object or an array at [Source: (String)"{\n  "a": {\n    "b": "c"\n  }\n}"; '
        "line: 3, column: 11]",
    ),
]


@pytest.mark.parametrize("text, message", RECORDED)
def test_the_location_suffix(text, message):
    with pytest.raises(InvalidPattern) as excinfo:
        compile_pattern(text)
    assert str(excinfo.value) + excinfo.value.location == message
    assert invalid_pattern(excinfo.value).message == "Event pattern is not valid. Reason: " + message


def test_a_long_pattern_is_truncated_as_jackson_does():
    text = '{"a": [' + ",".join(['"x"'] * 200) + '], "b": 1}'
    with pytest.raises(InvalidPattern) as excinfo:
        compile_pattern(text)
    location = excinfo.value.location
    assert location.startswith(' at [Source: (String)"' + text[:500] + '"[truncated ')
    assert location.endswith(f"line: 1, column: {len(text)}]")


def test_a_dict_pattern_has_no_location():
    with pytest.raises(InvalidPattern) as excinfo:
        compile_pattern({"a": 1})
    assert excinfo.value.location == ""
