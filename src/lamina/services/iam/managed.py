"""The AWS managed policies (arn:aws:iam::aws:policy/...): AWS's own documents, shipped as
JSON files in managed/ (one per policy: name, path, default version, dates, document), the
same in every account and never changed by one.

Their documents are AWS's, as AWS serves them at the version named; their PolicyIds are
derived from the name (AWS's own ids are not published for all of them), in AWS's format.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Policy

DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "managed")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def derived_id(prefix: str, seed: str) -> str:
    """prefix + 17 characters of AWS's unique-id alphabet, stable for one seed."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(17):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return prefix + "".join(chars)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def load() -> dict[str, Policy]:
    """ARN -> Policy for every file in managed/."""
    from .state import Policy, PolicyVersion

    policies: dict[str, Policy] = {}
    for filename in sorted(os.listdir(DIRECTORY)):
        if not filename.endswith(".json"):
            continue
        with open(os.path.join(DIRECTORY, filename), encoding="utf-8") as handle:
            data = json.load(handle)
        document = data["Document"]
        ordered = {"Version": document["Version"]} if "Version" in document else {}
        ordered.update((k, v) for k, v in document.items() if k != "Version")
        version = data["DefaultVersionId"]
        updated = _epoch(data["UpdateDate"])
        policy = Policy(
            "aws",
            data["PolicyName"],
            derived_id("ANPA", "aws-managed:" + data["PolicyName"]),
            data["Path"],
            _epoch(data["CreateDate"]),
            updated,
            version,
            {version: PolicyVersion(version, json.dumps(ordered, indent=4), updated)},
            int(version[1:]) + 1,
            data.get("Description"),
        )
        policies[policy.arn] = policy
    return policies
