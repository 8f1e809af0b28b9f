"""Values of botocore shapes as XML, both ways: what the query and rest-xml protocols share.

Writing: a structure is an element of its members; a list is wrapped (`<Tag><member>..`, the
member's name from the model) unless flattened (repeated `<Tag>`s); a map is `<entry><key/>
<value/></entry>`s; scalars are text (booleans `true`/`false`, blobs base64, timestamps per
the model's format, ISO 8601 by default). Members marked xmlAttribute are attributes of
their structure's element (S3's `<Grantee xsi:type="CanonicalUser">`).

Reading (rest-xml bodies, S3's <CreateBucketConfiguration>, <Delete>, <Tagging>...): the same
rules backwards, element names matched without their namespace.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from botocore.model import Shape

from ..errors import ServiceError
from . import shapes

_ESCAPES = {"\r": "&#xD;"}  # a bare CR would be folded into LF by every XML parser
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def text(value: Any) -> str:
    return escape(value, _ESCAPES)


def serialized_name(shape: Shape, default: str) -> str:
    return shape.serialization.get("name", default)


# --- writing ----------------------------------------------------------------------------


def element(shape: Shape, value: Any, tag: str, out: list[str], namespace: str = "") -> None:
    """`value` as the element <tag> (or, for flattened lists and maps, as repeated <tag>s);
    `namespace` is an xmlns declaration for a root element (' xmlns="..."')."""
    kind = shape.type_name
    if kind == "structure":
        out.append(f"<{tag}{namespace}{_attributes(shape, value)}>")
        members(shape, value, out)
        out.append(f"</{tag}>")
    elif kind == "list":
        member_tag = serialized_name(shape.member, "member")
        if shape.serialization.get("flattened"):
            for item in value:
                element(shape.member, item, tag, out)
            return
        out.append(f"<{tag}{namespace}>")
        for item in value:
            element(shape.member, item, member_tag, out)
        out.append(f"</{tag}>")
    elif kind == "map":
        key_tag = serialized_name(shape.key, "key")
        value_tag = serialized_name(shape.value, "value")
        flattened = shape.serialization.get("flattened")
        if not flattened:
            out.append(f"<{tag}{namespace}>")
        for key, item in value.items():
            out.append(f"<{tag}>" if flattened else "<entry>")
            element(shape.key, key, key_tag, out)
            element(shape.value, item, value_tag, out)
            out.append(f"</{tag}>" if flattened else "</entry>")
        if not flattened:
            out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}{namespace}>{text(scalar_text(shape, value))}</{tag}>")


def members(shape: Shape, value: dict, out: list[str]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None or member.serialization.get("xmlAttribute"):
            continue
        tag = serialized_name(member, name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            tag = member.member.serialization.get("name", tag)
        element(member, item, tag, out)


def _attributes(shape: Shape, value: dict) -> str:
    out = []
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute") and value.get(name) is not None:
            wire = serialized_name(member, name)
            if wire.startswith("xsi:"):
                out.append(f' xmlns:xsi="{_XSI}"')
            out.append(f" {wire}={quoteattr(scalar_text(member, value[name]))}")
    return "".join(out)


def scalar_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", "iso8601")
        if fmt == "unixTimestamp":
            return str(shapes.epoch(value))
        return shapes.rfc822(value) if fmt == "rfc822" else shapes.iso8601(value)
    if kind == "blob":
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return base64.b64encode(data).decode("ascii")
    if kind in ("float", "double"):
        return repr(float(value))
    if kind in ("integer", "long", "short", "byte"):
        return str(int(value))
    return str(value)


# --- reading ----------------------------------------------------------------------------


def parse_document(body: bytes) -> ElementTree.Element:
    """The root element of an XML body; a body that is not XML is MalformedXML (S3's code)."""
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise ServiceError(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        ) from None


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def from_xml(shape: Shape, node: ElementTree.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, node)
    if kind == "list":
        member_tag = serialized_name(shape.member, "member")
        return [from_xml(shape.member, child) for child in node if local(child.tag) == member_tag]
    if kind == "map":
        return _map(shape, [child for child in node if local(child.tag) == "entry"])
    return _scalar(shape, node.text or "", local(node.tag))


def _structure(shape: Shape, node: ElementTree.Element) -> dict[str, Any]:
    children: dict[str, list[ElementTree.Element]] = {}
    for child in node:
        children.setdefault(local(child.tag), []).append(child)
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        wire = serialized_name(member, name)
        if member.serialization.get("xmlAttribute"):
            attribute = wire.replace("xsi:", f"{{{_XSI}}}") if wire.startswith("xsi:") else wire
            if attribute in node.attrib:
                out[name] = _scalar(member, node.attrib[attribute], wire)
            continue
        if member.type_name == "list" and member.serialization.get("flattened"):
            found = children.get(member.member.serialization.get("name", wire))
            if found:
                out[name] = [from_xml(member.member, child) for child in found]
        elif member.type_name == "map" and member.serialization.get("flattened"):
            if wire in children:
                out[name] = _map(member, children[wire])
        elif wire in children:
            out[name] = from_xml(member, children[wire][0])
    return out


def _map(shape: Shape, entries: list[ElementTree.Element]) -> dict[str, Any]:
    key_tag = serialized_name(shape.key, "key")
    value_tag = serialized_name(shape.value, "value")
    out = {}
    for entry in entries:
        parts = {local(child.tag): child for child in entry}
        if key_tag in parts:
            value = parts.get(value_tag)
            out[parts[key_tag].text or ""] = from_xml(shape.value, value) if value is not None else None
    return out


def _scalar(shape: Shape, raw: str, where: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long", "short", "byte"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
        if kind == "boolean":
            if raw.strip().lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.strip().lower() == "true"
        if kind == "blob":
            return base64.b64decode(raw, validate=True)
        if kind == "timestamp":
            return shapes.parse_timestamp(raw)
    except (ValueError, binascii.Error, ServiceError):
        raise ServiceError(
            "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"
        ) from None
    return raw
