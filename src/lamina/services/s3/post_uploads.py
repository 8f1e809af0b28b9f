"""POST Object: a browser's form upload (protocol/s3_post.py reads the form and checks the
policy's signature; the caller is its signer). Here: the policy document (expiration;
conditions eq, starts-with, content-length-range, the {"field": "value"} shorthand; every
form field but the exempt ones named by a condition), the object's fields (key with
${filename}, Content-Type & co., x-amz-meta-*, tagging, acl, storage class, encryption,
Content-MD5, x-amz-checksum-*), the file received and written through writes.py as
ObjectCreated:Post, and what the answer is (success_action_status, success_action_redirect).

https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import json
import time
import xml.etree.ElementTree as ElementTree
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ...errors import ServiceError
from ..context import RequestContext
from . import checksums
from .acl import admit, requested_grants
from .errors import invalid_argument
from .names import check_key
from .objects import DEFAULT_CONTENT_TYPE, MAX_PUT_BYTES, checked_metadata, encryption_of, storage_class
from .state import Version
from .tagging import MAX_OBJECT_TAGS, checked
from .upload_errors import entity_too_small, policy_denied, post_missing_field
from .versions import shown_version_id
from .writes import Writes

OBJECT_CREATED_POST = "ObjectCreated:Post"
# Form fields no condition needs to name.
EXEMPT = frozenset({"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"})
_CONTENT = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
}


def invalid_policy(message: str) -> ServiceError:
    return ServiceError("InvalidPolicyDocument", f"Invalid Policy: {message}", 400)


def _expiration(text: Any) -> float:
    if not isinstance(text, str):
        raise invalid_policy("Invalid 'expiration' value: '" + str(text) + "'")
    for form in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return float(calendar.timegm(time.strptime(text, form)))
        except ValueError:
            continue
    raise invalid_policy(f"Invalid 'expiration' value: '{text}'")


def policy_document(text: str) -> dict:
    try:
        document = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise invalid_policy("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise invalid_policy("Invalid JSON.")
    if "expiration" not in document:
        raise invalid_policy("Policy missing expiration.")
    if not isinstance(document.get("conditions"), list):
        raise invalid_policy("Policy missing conditions.")
    return document


def check_policy(document: dict, fields: dict[str, str], names: dict[str, str], bucket: str) -> tuple[int, int] | None:
    """The policy's conditions against the form's fields (lower-cased names; `names` their
    names as sent): AccessDenied for the first that fails, or for a field none names.
    Returns the content-length-range, if any."""
    if _expiration(document["expiration"]) < time.time():
        raise policy_denied("Policy expired.")
    covered: set[str] = set()
    length_range = None
    for condition in document["conditions"]:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise invalid_policy(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
                )
            name, value = next(iter(condition.items()))
            operator, field, shown = "eq", str(name), ["eq", f"${name}", value]
        elif isinstance(condition, list) and len(condition) == 3 and isinstance(condition[0], str):
            operator, shown = condition[0].lower(), condition
            if operator == "content-length-range":
                try:
                    length_range = (int(condition[1]), int(condition[2]))
                except (TypeError, ValueError):
                    raise invalid_policy("Invalid content-length-range: the bounds must be integers.") from None
                continue
            if operator not in ("eq", "starts-with") or not str(condition[1]).startswith("$"):
                raise invalid_policy(f"Invalid Condition: {json.dumps(condition, ensure_ascii=False)}")
            field, value = str(condition[1])[1:], condition[2]
        else:
            raise invalid_policy("Invalid Policy: the conditions must be a list of conditions.")
        field = field.lower()
        covered.add(field)
        actual = bucket if field == "bucket" else fields.get(field)
        if operator == "eq":
            holds = actual == value
        else:
            holds = (actual or "").startswith(str(value))
        if not holds:
            raise policy_denied(f"Policy Condition failed: {json.dumps(shown, ensure_ascii=False)}")
    for field, sent in names.items():
        if field in EXEMPT or field.startswith("x-ignore-") or field in covered:
            continue
        raise policy_denied(f"Extra input fields: {sent}")
    return length_range


def _tags(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise ServiceError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
            400,
        ) from None
    pairs = []
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            found = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in tag}
            pairs.append((found.get("Key", ""), found.get("Value", "")))
    return checked(pairs, MAX_OBJECT_TAGS, "Object")


def _redirect(url: str | None, bucket: str, key: str, etag: str) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{url}{'&' if parts.query else '?'}{urlencode({'bucket': bucket, 'key': key, 'etag': etag})}"


class PostUploadsApi(Writes):
    async def post_object(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        pairs = params.get("Fields") or []
        fields = {str(name).lower(): str(value) for name, value in pairs}
        names = {str(name).lower(): str(name) for name, _ in pairs}
        if "key" not in fields:
            raise post_missing_field("key")
        length_range = None
        if "policy" in fields:
            length_range = check_policy(policy_document(fields["policy"]), fields, names, bucket.name)
        filename = (params.get("FileName") or "").replace("\\", "/").rsplit("/", 1)[-1]
        key = fields["key"].replace("${filename}", filename)
        if not key:
            raise invalid_argument("User key must have a length greater than 0.", "key", "")
        check_key(key)
        request: dict[str, Any] = {
            "ChecksumAlgorithm": fields.get("x-amz-checksum-algorithm"),
            "StorageClass": fields.get("x-amz-storage-class"),
            "ACL": fields.get("acl"),
            "ServerSideEncryption": fields.get("x-amz-server-side-encryption"),
            "SSEKMSKeyId": fields.get("x-amz-server-side-encryption-aws-kms-key-id"),
        }
        for name in checksums.ALGORITHMS:
            request[checksums.param(name)] = fields.get(f"x-amz-checksum-{name.lower()}")
        algorithm, expected = checksums.requested(request)
        checksums.check_md5_form(fields.get("content-md5"))
        meta = {name[len("x-amz-meta-") :]: value for name, value in fields.items() if name.startswith("x-amz-meta-")}
        metadata = checked_metadata(meta)
        content: dict[str, Any] = {member: fields[name] for name, member in _CONTENT.items() if fields.get(name)}
        content.setdefault("ContentType", DEFAULT_CONTENT_TYPE)
        if fields.get("expires"):
            try:
                content["Expires"] = parsedate_to_datetime(fields["expires"]).timestamp()
            except (TypeError, ValueError):
                pass
        tags = _tags(fields.get("tagging"))
        grants = admit(bucket, requested_grants(request, ctx.account_id))
        limit = MAX_PUT_BYTES if length_range is None else min(length_range[1], MAX_PUT_BYTES)
        md5 = hashlib.md5()
        hasher = checksums.Hasher(algorithm or checksums.DEFAULT)
        tmp, size = await self._receive(params.get("Body"), [md5, hasher], limit)
        with self.files.discarded_on_error(tmp):
            if length_range is not None and size < length_range[0]:
                raise entity_too_small(size, length_range[0])
            checksums.check_md5(fields.get("content-md5"), md5.digest())
            if algorithm is not None:
                checksums.check(algorithm, expected, hasher.value())
        version = Version.new(
            key=key,
            owner=ctx.account_id,
            size=size,
            etag=f'"{md5.hexdigest()}"',
            content=content,
            metadata=metadata,
            tags=tags,
            storage_class=storage_class(request),
            checksum={"algorithm": hasher.algorithm, "value": hasher.value(), "type": checksums.FULL_OBJECT},
            encryption=encryption_of(request, bucket, ctx),
            acl=grants,
        )
        await self._write_version(bucket, version, tmp, ctx, OBJECT_CREATED_POST)
        status = fields.get("success_action_status")
        answer: dict[str, Any] = {
            "Bucket": bucket.name,
            "Key": key,
            "ETag": version.etag,
            "Location": f"{ctx.endpoint_url}/{bucket.name}/{quote(key, safe='/')}",
            "Status": int(status) if status in ("200", "201", "204") else 204,
            "Redirect": _redirect(
                fields.get("success_action_redirect") or fields.get("redirect"), bucket.name, key, version.etag
            ),
            **version.encryption,
        }
        shown = shown_version_id(bucket, version)
        if shown is not None:
            answer["VersionId"] = shown
        return answer
