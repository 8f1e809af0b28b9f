"""What a target receives: the whole event, `Input`, `InputPath` or `InputTransformer`.

Pure functions over JSON, no I/O, so they are tested on their own (tests/unit).

* The whole event, or `Input` (a constant JSON text, sent as given).
* `InputPath`: a JSONPath into the event in EventBridge's subset: `$`, `.name` (dashes,
  underscores, slashes allowed), `['name']`, `[n]` and the wildcard `[*]` / `.*`. The value
  is sent as JSON: an object as an object, a string with its quotes (`"baz"`); a path that
  finds nothing sends `null`.
* `InputTransformer`: `InputPathsMap` names values in the event; `InputTemplate` uses them
  as `<name>`, beside the predefined `<aws.events.rule-arn>`, `<aws.events.rule-name>`,
  `<aws.events.event.ingestion-time>`, `<aws.events.event>` (the event without its detail,
  `detail-type` spelled `detailType` and `time` the ingestion time, as AWS sends it) and
  `<aws.events.event.json>` (the whole event).

  A template that is a JSON object or array is filled knowing where each placeholder
  stands: as a JSON value it becomes the value's JSON (strings quoted), inside a JSON string
  it becomes the value's text (escaped, so the result stays valid JSON); the result is then
  minified. Any other template is text: each placeholder becomes the value's text (a
  string without quotes, anything else as JSON), and the text is sent as it stands, its
  surrounding quotes included (`"instance i-1 is RUNNING"`). A path that finds nothing
  gives an empty string.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

PREDEFINED = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
)
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_NAME = re.compile(r"\.([^.\[\]]+)")
_INDEX = re.compile(r"\[(?:(\d+)|\*|'([^']*)'|\"([^\"]*)\")\]")
_WILDCARD = object()
_MISSING = object()


class InvalidTransform(ValueError):
    """A target's input settings that EventBridge refuses (the message is AWS's)."""


# --- JSONPath -------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple:
    """The steps of a JSONPath (names, indexes, _WILDCARD); InvalidTransform if it is not one."""
    if not path.startswith("$"):
        raise InvalidTransform(f"{path} is not a valid JSONPath.")
    steps: list = []
    position = 1
    while position < len(path):
        if path.startswith(".*", position):
            steps.append(_WILDCARD)
            position += 2
            continue
        match = _NAME.match(path, position)
        if match:
            steps.append(match.group(1))
            position = match.end()
            continue
        match = _INDEX.match(path, position)
        if match is None:
            raise InvalidTransform(f"{path} is not a valid JSONPath.")
        if match.group(1) is not None:
            steps.append(int(match.group(1)))
        elif match.group(2) is not None or match.group(3) is not None:
            steps.append(match.group(2) if match.group(2) is not None else match.group(3))
        else:
            steps.append(_WILDCARD)
        position = match.end()
    return tuple(steps)


def extract(document: Any, path: str) -> Any:
    """The value at `path`, a list of values when the path has a wildcard, _MISSING if none."""
    steps = parse_path(path)
    if _WILDCARD not in steps:
        value = document
        for step in steps:
            value = _step(value, step)
            if value is _MISSING:
                return _MISSING
        return value
    found = [document]
    for step in steps:
        if step is _WILDCARD:
            found = [item for value in found for item in _children(value)]
        else:
            found = [item for item in (_step(value, step) for value in found) if item is not _MISSING]
    return found if found else _MISSING


def _step(value: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return value[step] if isinstance(value, list) and step < len(value) else _MISSING
    return value.get(step, _MISSING) if isinstance(value, dict) else _MISSING


def _children(value: Any) -> list:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


# --- checks at PutTargets --------------------------------------------------------------------------


def check_target_input(target: dict) -> None:
    """Refuse what PutTargets refuses about a target's input settings."""
    given = [name for name in ("Input", "InputPath", "InputTransformer") if target.get(name) is not None]
    if len(given) > 1:
        raise InvalidTransform(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target {target['Id']}."
        )
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise InvalidTransform(f"Input for target {target['Id']} is not valid JSON.") from None
    if target.get("InputPath") is not None:
        try:
            parse_path(target["InputPath"])
        except InvalidTransform:
            raise InvalidTransform(f"InputPath for target {target['Id']} is not a valid JSONPath.") from None
    transformer = target.get("InputTransformer")
    if transformer is not None:
        check_transformer(transformer, target["Id"])


def check_transformer(transformer: dict, target_id: str) -> None:
    paths = transformer.get("InputPathsMap") or {}
    for name, path in paths.items():
        if name in PREDEFINED or name.lower().startswith("aws."):
            raise InvalidTransform(f"InputPathsMap for target {target_id} uses the reserved name {name}.")
        try:
            parse_path(path)
        except InvalidTransform:
            raise InvalidTransform(
                f"InputPathsMap for target {target_id} contains an invalid JSONPath: {path}."
            ) from None
    template = transformer.get("InputTemplate") or ""
    for name in _PLACEHOLDER.findall(template):
        if name not in paths and name not in PREDEFINED:
            raise InvalidTransform(f"InputTemplate for target {target_id} contains invalid placeholder {name}.")
    if _is_json_template(template):
        try:
            json.loads(_PLACEHOLDER.sub("0", template))
        except ValueError:
            raise InvalidTransform(f"InputTemplate for target {target_id} is not valid JSON.") from None


# --- rendering ---------------------------------------------------------------------------------------


def payload(target: dict, event: dict, event_text: str, rule_arn: str, rule_name: str, ingestion_time: str) -> str:
    """The text a target receives for `event` (whose JSON text is `event_text`)."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath") is not None:
        value = extract(event, target["InputPath"])
        return "null" if value is _MISSING else _dumps(value)
    transformer = target.get("InputTransformer")
    if transformer is not None:
        return render(transformer, event, rule_arn, rule_name, ingestion_time)
    return event_text


def render(transformer: dict, event: dict, rule_arn: str, rule_name: str, ingestion_time: str) -> str:
    template = transformer["InputTemplate"]
    values: dict[str, Any] = {
        name: extract(event, path)
        for name, path in (transformer.get("InputPathsMap") or {}).items()
        if f"<{name}>" in template
    }
    if "<aws.events" in template:
        summary = {
            "id": event.get("id"),
            "account": event.get("account"),
            "detailType": event.get("detail-type"),
            "time": ingestion_time,
            "source": event.get("source"),
            "region": event.get("region"),
            "resources": event.get("resources", []),
            "version": event.get("version"),
        }
        values.update(
            {
                "aws.events.rule-arn": rule_arn,
                "aws.events.rule-name": rule_name,
                "aws.events.event.ingestion-time": ingestion_time,
                "aws.events.event": summary,
                "aws.events.event.json": event,
            }
        )
    if _is_json_template(template):
        return minify(_fill_json(template, values))
    return _PLACEHOLDER.sub(lambda m: _as_text(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def _is_json_template(template: str) -> bool:
    return template.lstrip()[:1] in ("{", "[")


def _fill_json(template: str, values: dict[str, Any]) -> str:
    out: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        if in_string and char == "\\":
            out.append(template[position : position + 2])
            position += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, position)
            if match and match.group(1) in values:
                value = values[match.group(1)]
                if in_string:
                    out.append(json.dumps(_as_text(value), ensure_ascii=False)[1:-1])
                else:
                    out.append('""' if value is _MISSING else _dumps(value))
                position = match.end()
                continue
        out.append(char)
        position += 1
    return "".join(out)


def _as_text(value: Any) -> str:
    if value is _MISSING:
        return ""
    return value if isinstance(value, str) else _dumps(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def minify(text: str) -> str:
    """JSON text without the whitespace between tokens (numbers and strings kept as written)."""
    out: list[str] = []
    in_string = False
    position = 0
    while position < len(text):
        char = text[position]
        if in_string:
            if char == "\\":
                out.append(text[position : position + 2])
                position += 2
                continue
            if char == '"':
                in_string = False
            out.append(char)
        elif char == '"':
            in_string = True
            out.append(char)
        elif char not in " \t\r\n":
            out.append(char)
        position += 1
    return "".join(out)
