"""What a subscriber receives, in AWS's shapes: the JSON envelope (SQS, HTTP/S), the Lambda
event, and the HTTP SubscriptionConfirmation / UnsubscribeConfirmation messages.

Every message is signed as AWS signs it (signing.py): Signature is the base64 RSA signature
(SignatureVersion "1": SHA1withRSA, "2": SHA256withRSA) of AWS's string to sign, made with
Lamina's SNS key, whose certificate is served at the message's SigningCertURL.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from . import signing
from .state import Subscription

LINKS = "/_lamina/sns"


def timestamp(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def unsubscribe_url(endpoint: str, subscription_arn: str) -> str:
    return f"{endpoint}{LINKS}/unsubscribe?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn, safe='')}"


def subscribe_url(endpoint: str, topic_arn: str, token: str) -> str:
    return f"{endpoint}{LINKS}/confirm?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}&Token={token}"


def signing_cert_url(endpoint: str, signer: signing.Signer) -> str:
    """Where the certificate of the key that signs messages is served (http/sns_links.py)."""
    return f"{endpoint}{LINKS}/{signer.certificate_name}"


def _signature(fields: dict[str, Any], signer: signing.Signer) -> str:
    """The Signature of a message whose other signed fields (and SignatureVersion) are set."""
    return signer.sign(signing.string_to_sign(fields), fields["SignatureVersion"])


def message_for(protocol: str, message: dict) -> str:
    """The text a protocol receives: MessageStructure=json picks its own key, else "default"."""
    per_protocol = message.get("structure")
    if per_protocol is not None:
        return per_protocol.get(protocol, per_protocol["default"])
    return message["message"]


def notification(message: dict, subscription: Subscription, signer: signing.Signer) -> dict[str, Any]:
    """The JSON envelope SQS and HTTP/S subscribers receive (SigningCertURL spelt as AWS spells it)."""
    endpoint = message["endpoint"]
    body: dict[str, Any] = {"Type": "Notification", "MessageId": message["id"]}
    if message.get("sequence"):
        body["SequenceNumber"] = message["sequence"]
    body["TopicArn"] = message["topic"]
    if message.get("subject") is not None:
        body["Subject"] = message["subject"]
    body["Message"] = message_for(subscription.protocol, message)
    body["Timestamp"] = timestamp(message["ms"])
    body["SignatureVersion"] = message.get("signature_version", "1")
    body["Signature"] = _signature(body, signer)
    body["SigningCertURL"] = signing_cert_url(endpoint, signer)
    body["UnsubscribeURL"] = unsubscribe_url(endpoint, subscription.arn)
    if message.get("attributes"):
        body["MessageAttributes"] = message["attributes"]
    return body


def lambda_event(message: dict, subscription: Subscription, signer: signing.Signer) -> dict[str, Any]:
    """The event a Lambda subscriber is invoked with (one record, as AWS sends it)."""
    endpoint = message["endpoint"]
    sns: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message["id"],
        "TopicArn": message["topic"],
        "Subject": message.get("subject"),
        "Message": message_for("lambda", message),
        "Timestamp": timestamp(message["ms"]),
        "SignatureVersion": message.get("signature_version", "1"),
    }
    sns["Signature"] = _signature(sns, signer)
    sns["SigningCertUrl"] = signing_cert_url(endpoint, signer)
    sns["UnsubscribeUrl"] = unsubscribe_url(endpoint, subscription.arn)
    sns["MessageAttributes"] = message.get("attributes") or {}
    return {
        "Records": [
            {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription.arn, "Sns": sns}
        ]
    }


def confirmation(
    kind: str,
    subscription: Subscription,
    endpoint: str,
    message_id: str,
    ms: int,
    signer: signing.Signer,
    signature_version: str = "1",
) -> dict[str, Any]:
    """A SubscriptionConfirmation or UnsubscribeConfirmation for an HTTP/S endpoint, signed
    with `signature_version` (the topic's SignatureVersion, when the caller knows it)."""
    token = subscription.token or ""
    if kind == "SubscriptionConfirmation":
        text = (
            f"You have chosen to subscribe to the topic {subscription.topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
    else:
        text = (
            f"You have chosen to deactivate subscription {subscription.arn}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL included in this "
            "message."
        )
    body: dict[str, Any] = {
        "Type": kind,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": subscription.topic_arn,
        "Message": text,
        "SubscribeURL": subscribe_url(endpoint, subscription.topic_arn, token),
        "Timestamp": timestamp(ms),
        "SignatureVersion": signature_version,
    }
    body["Signature"] = _signature(body, signer)
    body["SigningCertURL"] = signing_cert_url(endpoint, signer)
    return body


def dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
