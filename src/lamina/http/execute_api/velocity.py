"""Mapping templates: Velocity (VTL, rendered by airspeed-ext) with the variables API Gateway
gives them: `$input` (body, json(path), path(path), params(), params(name)), `$util`
(escapeJavaScript, parseJson, urlEncode, urlDecode, base64Encode, base64Decode), `$context`
(the call's, requestOverride and responseOverride writable), `$stageVariables`, and in
response templates `$input` over the integration's response.

JSONPath is jsonpath-ng's. A body that `$input.json`/`$input.path` cannot read as JSON is
AWS's 400 "Could not parse request body into json" (an empty body reads as {}). Maps and
lists print as Java's do ({a=1, b=2}, [1, 2]), since AWS's Velocity runs on Java.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
from airspeed import operators
from jsonpath_ng import parse as parse_path
from jsonpath_ng.exceptions import JsonPathParserError

_KEPT = 512


class TemplateFailure(Exception):
    """A template that cannot be rendered: AWS's 500 Internal server error."""


class BadBody(Exception):
    """The body cannot be read as JSON where a template asks for it: AWS's 400."""


class VtlMap(dict):
    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}={_java(v)}" for k, v in self.items()) + "}"


class VtlList(list):
    def __str__(self) -> str:
        return "[" + ", ".join(_java(v) for v in self) + "]"


# airspeed looks its Java-like methods (.size(), .keySet(), .put()) up by exact class.
operators.__additional_methods__.setdefault(VtlMap, operators.__additional_methods__[dict])
operators.__additional_methods__.setdefault(VtlList, operators.__additional_methods__[list])
# Java's String methods templates use that airspeed lacks.
for _name, _method in {
    "toLowerCase": str.lower,
    "toUpperCase": str.upper,
    "trim": str.strip,
    "equals": lambda self, other: self == other,
    "equalsIgnoreCase": lambda self, other: self.lower() == str(other).lower(),
    "endsWith": str.endswith,
    "isEmpty": lambda self: not self,
    "lastIndexOf": str.rfind,
    "replace": lambda self, old, new: self.replace(str(old), str(new)),
    "split": lambda self, pattern: VtlList(re.split(pattern, self)),
    "charAt": lambda self, index: self[index],
}.items():
    operators.__additional_methods__[str].setdefault(_name, _method)


def _java(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def vtl(value: Any) -> Any:
    """A JSON value as templates hold it (maps and lists printing as Java's)."""
    if isinstance(value, dict):
        return VtlMap((k, vtl(v)) for k, v in value.items())
    if isinstance(value, list):
        return VtlList(vtl(v) for v in value)
    return value


_paths: dict[str, Any] = {}


def json_path(document: Any, path: str) -> Any:
    """The value a JSONPath selects: one value, a list where the path can select several
    (wildcards, filters, slices), None where it selects nothing."""
    path = (path or "$").strip()
    compiled = _paths.get(path)
    if compiled is None:
        try:
            compiled = parse_path(path)
        except (JsonPathParserError, Exception) as error:
            raise TemplateFailure(f"Invalid JSONPath {path}: {error}") from None
        if len(_paths) >= _KEPT:
            _paths.clear()
        _paths[path] = compiled
    found = [match.value for match in compiled.find(document)]
    many = any(mark in path for mark in ("*", "?(", "..", ":", ","))
    if many:
        return found
    return found[0] if found else None


class Input:
    """$input: over the request's body and parameters (request templates) or the
    integration's response body (response templates)."""

    def __init__(self, body: str, params: dict[str, dict[str, str]]) -> None:
        self.body = body
        self._params = params
        self._document: Any = None
        self._parsed = False

    def _json(self) -> Any:
        if not self._parsed:
            text = self.body.strip()
            try:
                self._document = json.loads(text) if text else {}
            except ValueError as error:
                raise BadBody(f"Could not parse request body into json: {error}") from None
            self._parsed = True
        return self._document

    def json(self, path: str = "$") -> str:
        value = json_path(self._json(), path)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def path(self, path: str = "$") -> Any:
        return vtl(json_path(self._json(), path))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return VtlMap((kind, VtlMap(values)) for kind, values in self._params.items())
        for kind in ("path", "querystring", "header"):
            values = self._params.get(kind) or {}
            if name in values:
                return values[name]
            if kind == "header":
                lowered = name.lower()
                for key, value in values.items():
                    if key.lower() == lowered:
                        return value
        return ""

    def size(self) -> int:
        return len(self.body.encode())


_JS_ESCAPES = {
    '"': '\\"',
    "'": "\\'",
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


class Util:
    """$util, as AWS documents it."""

    @staticmethod
    def escapeJavaScript(text: Any) -> str:  # noqa: N802 (AWS's name)
        out = []
        for char in _java(text):
            if char in _JS_ESCAPES:
                out.append(_JS_ESCAPES[char])
            elif ord(char) < 32 or ord(char) > 126:
                out.append(f"\\u{ord(char):04X}" if ord(char) <= 0xFFFF else char)
            else:
                out.append(char)
        return "".join(out)

    @staticmethod
    def parseJson(text: Any) -> Any:  # noqa: N802
        try:
            return vtl(json.loads(_java(text)))
        except ValueError as error:
            raise TemplateFailure(f"Invalid JSON for $util.parseJson: {error}") from None

    @staticmethod
    def urlEncode(text: Any) -> str:  # noqa: N802
        return quote_plus(_java(text), safe="*").replace("~", "%7E")

    @staticmethod
    def urlDecode(text: Any) -> str:  # noqa: N802
        return unquote_plus(_java(text))

    @staticmethod
    def base64Encode(text: Any) -> str:  # noqa: N802
        return base64.b64encode(_java(text).encode()).decode()

    @staticmethod
    def base64Decode(text: Any) -> str:  # noqa: N802
        try:
            return base64.b64decode(_java(text)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise TemplateFailure("Invalid base64 for $util.base64Decode") from None


UTIL = Util()
_templates: dict[str, airspeed.Template] = {}


def render(template: str, input_: Input, context: dict[str, Any], stage_variables: dict[str, str]) -> str:
    """The template's output. Raises BadBody or TemplateFailure."""
    compiled = _templates.get(template)
    if compiled is None:
        compiled = airspeed.Template(template)
        if len(_templates) >= _KEPT:
            _templates.clear()
        _templates[template] = compiled
    held = vtl(context)
    namespace = {"input": input_, "util": UTIL, "context": held, "stageVariables": VtlMap(stage_variables)}
    try:
        out = compiled.merge(namespace)
    except Exception as error:  # airspeed's syntax and execution errors, a failing call
        # airspeed wraps what a call raised: our own failures are found in the chain.
        cause: BaseException | None = error
        while cause is not None:
            if isinstance(cause, (BadBody, TemplateFailure)):
                raise cause from None
            cause = cause.__cause__ or cause.__context__
        raise TemplateFailure(f"Unable to transform request: {error}") from None
    # requestOverride/responseOverride are written through the context's maps.
    _write_back(held, context)
    return out


def _write_back(rendered: dict[str, Any], context: dict[str, Any]) -> None:
    for name in ("requestOverride", "responseOverride"):
        source, target = rendered.get(name), context.get(name)
        if isinstance(source, dict) and isinstance(target, dict) and source is not target:
            for key, value in source.items():
                if isinstance(value, dict) and isinstance(target.get(key), dict):
                    target[key].update(value)
                else:
                    target[key] = value
