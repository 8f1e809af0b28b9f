"""The one error of this package: a policy document IAM would refuse."""

from __future__ import annotations


class MalformedPolicy(ValueError):
    """A policy document AWS would refuse with MalformedPolicyDocument (IAM) or MalformedPolicy
    (S3, SQS, ...). `message` is AWS's text, so a service can hand it straight back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# AWS's wording for the refusals this package makes. Kept in one place so the services that
# surface them and the tests that check them agree.
SYNTAX = "Syntax errors in policy."
NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."
MISSING_PRINCIPAL = "Missing required field Principal"
MISSING_EFFECT = "Missing required field Effect"
MISSING_ACTIONS = "Policy statement must contain actions."
MISSING_RESOURCES = "Policy statement must contain resources."
ACTION_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ACTION_COLONS = "Actions/Condition can contain only one colon."
DUPLICATE_SID = "Statement IDs (SID) in a single policy must be unique."


def unknown_operator(name: str) -> str:
    return f"Invalid Condition type : {name}"


def invalid_principal(kind: str, value: str) -> str:
    return f'Invalid principal in policy: "{kind}":"{value}"'


def invalid_resource(value: str) -> str:
    return f'Resource {value} must be in ARN format or "*".'
