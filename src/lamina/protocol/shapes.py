"""Converting values between their wire form and Python, one botocore shape at a time.

Shared by every parser and serializer: JSON documents (json, rest-json), headers and
query strings (rest-*), and the typed values of CBOR. Parsed values use the member names
of the model; blobs are bytes, timestamps are aware datetimes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from botocore.model import Shape

from ..errors import ServiceError


def _bad(message: str) -> ServiceError:
    return ServiceError("SerializationException", message, 400)


def parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), timezone.utc)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError):
            pass
    raise _bad(f"Could not parse timestamp: {value!r}")


def epoch(value: Any) -> float | int:
    moment = parse_timestamp(value)
    seconds = moment.timestamp()
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)


def iso8601(value: Any) -> str:
    moment = parse_timestamp(value).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rfc822(value: Any) -> str:
    return format_datetime(parse_timestamp(value).astimezone(timezone.utc), usegmt=True)


# --- JSON documents -------------------------------------------------------------------


_UNSET = object()


def memo(model_object: Any, attribute: str, make: Callable[[Any], Any]) -> Any:
    """A value worked out once per botocore shape or operation, kept on the object itself:
    keyed by id() in a table, it could outlive a short-lived object and be handed to another
    one later allocated at the same address."""
    value = model_object.__dict__.get(attribute, _UNSET)
    if value is _UNSET:
        value = model_object.__dict__[attribute] = make(model_object)
    return value


def _json_members(shape: Shape) -> tuple:
    """A structure's (name, JSON key, member, located elsewhere) tuples: walking the model's
    member properties for every value of every request was most of a parse."""
    return memo(
        shape,
        "_lamina_json_members",
        lambda s: tuple(
            (name, member.serialization.get("name", name), member, bool(member.serialization.get("location")))
            for name, member in s.members.items()
        ),
    )


def from_json(shape: Shape, value: Any) -> Any:
    """A JSON value as sent by botocore -> the Python value of `shape`."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _bad(f"Expected an object for {shape.name}")
        if getattr(shape, "is_document_type", False):
            return value
        out = {}
        for name, key, member, _ in _json_members(shape):
            if key in value:
                item = value[key]
                kind = member.type_name
                # Plain strings are by far the commonest member: no call for them.
                out[name] = item if kind == "string" and item.__class__ is str else from_json(member, item)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _bad(f"Expected a list for {shape.name}")
        return [from_json(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise _bad(f"Expected a map for {shape.name}")
        return {k: from_json(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        try:
            return base64.b64decode(value, validate=False)
        except (binascii.Error, TypeError, ValueError):
            raise _bad(f"Could not decode base64 for {shape.name}") from None
    if kind == "timestamp":
        return parse_timestamp(value)
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                try:
                    return int(value)
                except ValueError:
                    pass
            raise _bad(f"Expected an integer for {shape.name}")
        return int(value)
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _bad(f"Expected a number for {shape.name}")
        return float(value)
    if kind == "boolean":
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)
    if kind == "string":
        if not isinstance(value, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            raise _bad(f"Expected a string for {shape.name}")
        return value
    return value


def to_json(shape: Shape, value: Any, timestamp_format: str = "unixTimestamp") -> Any:
    """A Python value of `shape` -> its JSON form as botocore expects to read it."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return value
        out = {}
        for name, key, member, located in _json_members(shape):
            item = value.get(name)
            if item is not None and not located:
                out[key] = (
                    item
                    if item.__class__ is str and member.type_name == "string"
                    else to_json(member, item, timestamp_format)
                )
        return out
    if kind == "list":
        return [to_json(shape.member, item, timestamp_format) for item in value]
    if kind == "map":
        return {k: to_json(shape.value, v, timestamp_format) for k, v in value.items()}
    if kind == "blob":
        data = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(data).decode("ascii")
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", timestamp_format)
        if fmt == "iso8601":
            return iso8601(value)
        if fmt == "rfc822":
            return rfc822(value)
        return epoch(value)
    return value


# --- headers and query strings ----------------------------------------------------------


def from_text(shape: Shape, text: str, *, in_header: bool) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise _bad(f"Expected an integer, got {text!r}") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise _bad(f"Expected a number, got {text!r}") from None
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        return parse_timestamp(text)
    if kind == "blob":
        return base64.b64decode(text)
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return json.loads(base64.b64decode(text)) if in_header else json.loads(text)
    if kind == "list":
        return [from_text(shape.member, part.strip(), in_header=in_header) for part in text.split(",")]
    return text


def to_header(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "rfc822")
        return iso8601(value) if fmt == "iso8601" else str(epoch(value)) if fmt == "unixTimestamp" else rfc822(value)
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode("ascii")
    if kind == "list":
        return ",".join(to_header(shape.member, v) for v in value)
    return str(value)
