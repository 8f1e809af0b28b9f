"""SNS message data protection: a topic's data protection policy, checked as AWS checks it
and applied to what is published (Inbound) and to what each subscription receives (Outbound).

The policy (PutDataProtectionPolicy, CreateTopic's DataProtectionPolicy):

    {"Name": ..., "Description": ..., "Version": "2021-06-01",
     "Statement": [{"Sid": ..., "DataDirection": "Inbound" | "Outbound",
                    "Principal": ["*" | an IAM ARN | an account id, ...],
                    "DataIdentifier": [managed identifier ARNs or custom identifier names],
                    "Operation": {"Audit": {"SampleRate": "0".."99",
                                            "FindingsDestination": {"CloudWatchLogs": {"LogGroup": ...}},
                                            "NoFindingsDestination": {...}}}
                               | {"Deny": {}}
                               | {"Deidentify": {"MaskConfig": {"MaskWithCharacter": "#"}}
                                                | {"RedactConfig": {}}}}],
     "Configuration": {"CustomDataIdentifier": [{"Name": ..., "Regex": ...}]}}

At most one Audit statement, and it is Inbound. A statement applies to a publisher (Inbound)
or a subscription's principal (Outbound: its SubscriptionPrincipal) that its Principal names.

* Inbound Deny: Publish is refused (AuthorizationError, 403) when the message holds one of
  the statement's identifiers.
* Inbound Deidentify: what is published is masked (each character of a finding becomes the
  mask character, "*" unless MaskWithCharacter says) or redacted (removed) before any
  subscription sees it; Outbound Deidentify does so for the subscriptions it names only.
* Outbound Deny: that subscription is not delivered the message.
* Audit: a sample (SampleRate percent) of published messages is scanned and the finding
  (or its absence) written to the CloudWatch Logs group named (Firehose and S3 destinations
  are accepted and not written to: Lamina serves neither).

What is scanned is the message text (with MessageStructure=json, the whole JSON document);
which identifiers Lamina finds is patterns/data_identifiers.py's DETECTORS.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ...errors import ServiceError
from ...patterns import data_identifiers as identifiers

VERSION = "2021-06-01"
DIRECTIONS = ("Inbound", "Outbound")
OPERATIONS = ("Audit", "Deny", "Deidentify")
MAX_POLICY_BYTES = 30_720
VENDED = "/aws/vendedlogs/"


def _invalid(reason: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: DataProtectionPolicy Reason: {reason}", 400)


@dataclass
class Statement:
    sid: str
    direction: str
    principals: list[str]
    identifiers: list[str]  # managed names or custom names
    operation: str
    config: dict

    def applies_to(self, principal: str) -> bool:
        account = principal.split(":")[4] if principal.count(":") >= 5 else principal
        return any(p == "*" or p == principal or p == account for p in self.principals)


@dataclass
class Policy:
    text: str
    statements: list[Statement]
    custom: dict[str, identifiers.Finder] = field(default_factory=dict)

    def findings(self, names: list[str], text: str) -> dict[str, list[tuple[int, int]]]:
        out: dict[str, list[tuple[int, int]]] = {}
        for name in names:
            finder = self.custom.get(name)
            spans = list(finder(text)) if finder is not None else identifiers.find(name, text)
            if spans:
                out[name] = spans
        return out


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _invalid(f"{what} must be a non-empty list of strings")
    return value


def parse(text: str) -> Policy:
    """A checked policy; raises InvalidParameter with the reason."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise _invalid(f"Policy is larger than {MAX_POLICY_BYTES} bytes")
    try:
        document = json.loads(text)
    except ValueError:
        raise _invalid("Policy is not valid JSON") from None
    if not isinstance(document, dict):
        raise _invalid("Policy must be a JSON object")
    unknown = set(document) - {"Name", "Description", "Version", "Statement", "Configuration"}
    if unknown:
        raise _invalid(f"Unknown field {sorted(unknown)[0]}")
    if not isinstance(document.get("Name"), str) or not document["Name"]:
        raise _invalid("Name is required")
    if "Description" in document and not isinstance(document["Description"], str):
        raise _invalid("Description must be a string")
    if document.get("Version") != VERSION:
        raise _invalid(f"Version must be {VERSION}")
    custom = _custom(document.get("Configuration"))
    raw = document.get("Statement")
    if not isinstance(raw, list) or not raw:
        raise _invalid("Statement must be a non-empty list")
    statements = [_statement(item, custom) for item in raw]
    audits = [s for s in statements if s.operation == "Audit"]
    if len(audits) > 1:
        raise _invalid("Only one Audit statement is allowed")
    if audits and audits[0].direction != "Inbound":
        raise _invalid("Audit operation is only supported for DataDirection Inbound")
    return Policy(text, statements, custom)


def _custom(configuration: Any) -> dict[str, identifiers.Finder]:
    if configuration is None:
        return {}
    if not isinstance(configuration, dict):
        raise _invalid("Configuration must be a JSON object")
    found: dict[str, identifiers.Finder] = {}
    for entry in configuration.get("CustomDataIdentifier") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str) or not entry["Name"]:
            raise _invalid("CustomDataIdentifier needs a Name")
        if not isinstance(entry.get("Regex"), str) or not entry["Regex"]:
            raise _invalid(f"CustomDataIdentifier {entry['Name']} needs a Regex")
        if entry["Name"] in found:
            raise _invalid(f"Duplicate CustomDataIdentifier {entry['Name']}")
        try:
            found[entry["Name"]] = identifiers.custom(entry["Regex"])
        except Exception:
            raise _invalid(f"CustomDataIdentifier {entry['Name']} has an invalid Regex") from None
    return found


def _statement(item: Any, custom: dict) -> Statement:
    if not isinstance(item, dict):
        raise _invalid("Each Statement must be a JSON object")
    direction = item.get("DataDirection")
    if direction not in DIRECTIONS:
        raise _invalid("DataDirection must be Inbound or Outbound")
    principals = _strings(item.get("Principal"), "Principal")
    names = []
    for value in _strings(item.get("DataIdentifier"), "DataIdentifier"):
        if value.startswith(identifiers.ARN_PREFIX):
            name = value[len(identifiers.ARN_PREFIX) :]
            if name not in identifiers.MANAGED:
                raise _invalid(f"Unknown managed data identifier {value}")
        elif value in custom:
            name = value
        else:
            raise _invalid(f"Unknown data identifier {value}")
        names.append(name)
    operation = item.get("Operation")
    if not isinstance(operation, dict) or len(operation) != 1 or next(iter(operation)) not in OPERATIONS:
        raise _invalid("Operation must hold exactly one of Audit, Deny or Deidentify")
    kind, config = next(iter(operation.items()))
    if not isinstance(config, dict):
        raise _invalid(f"{kind} must be a JSON object")
    if kind == "Deny" and config:
        raise _invalid("Deny takes no configuration")
    if kind == "Deidentify":
        _check_deidentify(config)
    if kind == "Audit":
        _check_audit(config)
    return Statement(str(item.get("Sid", "")), direction, principals, names, kind, config)


def _check_deidentify(config: dict) -> None:
    if set(config) not in ({"MaskConfig"}, {"RedactConfig"}):
        raise _invalid("Deidentify needs exactly one of MaskConfig or RedactConfig")
    mask = config.get("MaskConfig")
    if mask is not None:
        if not isinstance(mask, dict) or set(mask) - {"MaskWithCharacter"}:
            raise _invalid("MaskConfig may only hold MaskWithCharacter")
        character = mask.get("MaskWithCharacter", "*")
        if not isinstance(character, str) or len(character) != 1 or not character.isprintable():
            raise _invalid("MaskWithCharacter must be a single printable character")
    elif config["RedactConfig"] != {}:
        raise _invalid("RedactConfig takes no configuration")


def _check_audit(config: dict) -> None:
    if set(config) - {"SampleRate", "FindingsDestination", "NoFindingsDestination"}:
        raise _invalid("Audit may only hold SampleRate, FindingsDestination and NoFindingsDestination")
    rate = config.get("SampleRate", "0")
    try:
        number = int(str(rate))
    except ValueError:
        number = -1
    if not 0 <= number <= 99:
        raise _invalid("SampleRate must be an integer between 0 and 99")
    if "FindingsDestination" not in config and "NoFindingsDestination" not in config:
        raise _invalid("Audit needs a FindingsDestination or a NoFindingsDestination")
    for key in ("FindingsDestination", "NoFindingsDestination"):
        destination = config.get(key)
        if destination is None:
            continue
        if not isinstance(destination, dict) or set(destination) - {"CloudWatchLogs", "Firehose", "S3"}:
            raise _invalid(f"{key} may only hold CloudWatchLogs, Firehose and S3")
        group = (destination.get("CloudWatchLogs") or {}).get("LogGroup")
        if "CloudWatchLogs" in destination and (not isinstance(group, str) or not group.startswith(VENDED)):
            raise _invalid(f"CloudWatchLogs LogGroup must begin with {VENDED}")


# --- applying it -----------------------------------------------------------------------------


def denied() -> ServiceError:
    return ServiceError(
        "AuthorizationError",
        "Publish request denied: the message contains sensitive data the topic's data protection policy denies",
        403,
    )


def deidentify(text: str, spans: list[tuple[int, int]], config: dict) -> str:
    """The text with every span masked (MaskConfig) or removed (RedactConfig)."""
    mask = config.get("MaskConfig")
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out.append(text[last:start])
        if mask is not None:
            out.append(mask.get("MaskWithCharacter", "*") * (end - start))
        last = end
    out.append(text[last:])
    return "".join(out)


@dataclass
class Inbound:
    text: str  # what is published, de-identified
    audit: dict | None  # the audit record to write, and where: {"groups": [...], "record": {...}}


def inbound(policy: Policy, text: str, principal: str) -> Inbound:
    """Apply the Inbound statements for a publisher: raises AuthorizationError for Deny."""
    audit = None
    for statement in policy.statements:
        if statement.direction != "Inbound" or not statement.applies_to(principal):
            continue
        found = policy.findings(statement.identifiers, text)
        if statement.operation == "Deny" and found:
            raise denied()
        if statement.operation == "Audit":
            audit = _audit(statement, found, principal)
        if statement.operation == "Deidentify" and found:
            text = deidentify(text, [span for spans in found.values() for span in spans], statement.config)
    return Inbound(text, audit)


def outbound(policy: Policy, text: str, principal: str) -> str | None:
    """What a subscription whose principal this is receives: the text, de-identified, or None
    (an Outbound Deny)."""
    for statement in policy.statements:
        if statement.direction != "Outbound" or not statement.applies_to(principal):
            continue
        found = policy.findings(statement.identifiers, text)
        if not found:
            continue
        if statement.operation == "Deny":
            return None
        if statement.operation == "Deidentify":
            text = deidentify(text, [span for spans in found.values() for span in spans], statement.config)
    return text


def has_outbound(policy: Policy | None) -> bool:
    return policy is not None and any(s.direction == "Outbound" for s in policy.statements)


def _audit(statement: Statement, found: dict[str, list[tuple[int, int]]], principal: str) -> dict | None:
    config = statement.config
    if random.random() * 100 >= int(str(config.get("SampleRate", "0"))):
        return None
    destination = config.get("FindingsDestination" if found else "NoFindingsDestination") or {}
    group = (destination.get("CloudWatchLogs") or {}).get("LogGroup")
    if not group:
        return None
    record = {
        "auditTimestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "callerPrincipal": principal,
        "dataIdentifiers": [
            {"name": name, "count": len(spans), "detections": [{"start": a, "end": b - 1} for a, b in spans]}
            for name, spans in found.items()
        ],
    }
    return {"group": group, "record": record}
