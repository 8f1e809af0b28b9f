"""Policy documents: the checks IAM makes before it keeps one, their size quotas, and how
IAM hands them back (URL-encoded JSON, exactly the text it was given).

The checks are the structural ones IAM makes on every document (JSON object, a known
Version, Statement(s) with Effect, Action and Resource, no Principal in an identity policy,
a Principal and no Resource in a trust policy, vendor-prefixed actions, unique Sids), each
refused with IAM's own MalformedPolicyDocument wording.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from ...errors import ServiceError
from ...policy import IDENTITY, RESOURCE, MalformedPolicy, parse_policy

VERSIONS = ("2012-10-17", "2008-10-17")
INVALID_JSON = "This policy contains invalid Json"
LEGACY = "The policy failed legacy parsing"
PROHIBITED_RESOURCE = "Has prohibited field Resource"

# Quotas on a document's size, counted without whitespace (IAM and AWS STS quotas).
MANAGED_SIZE = 6144
USER_INLINE_SIZE = 2048
GROUP_INLINE_SIZE = 5120
ROLE_INLINE_SIZE = 10240
TRUST_SIZE = 2048


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def encode(document: str) -> str:
    """How IAM answers a policy document: the text as given, URL-encoded (botocore decodes
    it back into a dict)."""
    return quote(document, safe="-_.~")


def size(document: str) -> int:
    return len(re.sub(r"\s", "", document))


def check(document: str, trust: bool = False) -> dict:
    """The decoded document, or MalformedPolicyDocument with IAM's reason. `trust`: a role's
    trust policy (a resource policy: Principal required, no Resource). The statements are
    checked by the policy language's own parser (lamina.policy)."""
    try:
        parsed = json.loads(document)
    except ValueError:
        raise malformed(INVALID_JSON) from None
    if isinstance(parsed, dict) and parsed.get("Version", VERSIONS[0]) not in VERSIONS:
        raise malformed(LEGACY)
    try:
        parse_policy(parsed, RESOURCE if trust else IDENTITY)
    except MalformedPolicy as refused:
        raise malformed(refused.message) from None
    if trust:
        statements = parsed["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if "Resource" in statement or "NotResource" in statement:
                raise malformed(PROHIBITED_RESOURCE)
    return parsed
