"""Where a REST request's members are (rest-json and rest-xml alike): the URI's labels, the
query string, the headers, the payload or body. Worked out once per operation: walking the
model's members on every request cost more than the rest of the parse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel

from . import shapes
from .messages import Request
from .router import Resolved


@dataclass(frozen=True)
class RestPlan:
    """Where each input member of an operation lives."""

    uri: tuple  # (name, wire label, member)
    query: tuple  # (name, wire, member, is map)
    headers: tuple  # (name, lowercase wire, member)
    prefixed: tuple  # (name, lowercase prefix)
    body: tuple  # (name, JSON key, member)
    payload: tuple | None  # (name, member)
    query_names: frozenset


def _make_rest_plan(op: OperationModel) -> RestPlan:
    shape = op.input_shape
    uri, query, headers, prefixed, body = [], [], [], [], []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            uri.append((name, wire, member))
        elif location == "querystring":
            query.append((name, wire, member, member.type_name == "map"))
        elif location == "header":
            headers.append((name, wire.lower(), member))
        elif location == "headers":
            prefixed.append((name, wire.lower()))
        elif location is None:
            body.append((name, wire, member))
    payload_name = shape.serialization.get("payload")
    return RestPlan(
        tuple(uri),
        tuple(query),
        tuple(headers),
        tuple(prefixed),
        tuple(body),
        (payload_name, shape.members[payload_name]) if payload_name else None,
        frozenset(wire for _, wire, _, is_map in query if not is_map),
    )


def rest_plan(op: OperationModel) -> RestPlan:
    """Where each input member of a REST operation (rest-json or rest-xml) lives."""
    return shapes.memo(op, "_lamina_rest_plan", _make_rest_plan)


def located(plan: RestPlan, resolved: Resolved, request: Request) -> dict[str, Any]:
    """The members a REST request carries in its URI, query string and headers."""
    params: dict[str, Any] = {}
    labels = resolved.labels
    for name, wire, member in plan.uri:
        if wire in labels:
            params[name] = shapes.from_text(member, labels[wire], in_header=False)
    if plan.query:
        query = request.query
        for name, wire, member, is_map in plan.query:
            if is_map:
                params[name] = {k: v for k, v in query if k not in plan.query_names}
                continue
            values = [v for k, v in query if k == wire]
            if values:
                if member.type_name == "list":
                    params[name] = [shapes.from_text(member.member, v, in_header=False) for v in values]
                else:
                    params[name] = shapes.from_text(member, values[0], in_header=False)
    headers = request.headers
    for name, wire, member in plan.headers:
        value = headers.get(wire)
        if value is not None:
            params[name] = shapes.from_text(member, value, in_header=True)
    for name, prefix in plan.prefixed:
        params[name] = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
    return params
