"""SNS message signatures against a live server: every message SNS sends (notifications to
SQS, HTTP and Lambda subscribers, HTTP subscription and unsubscribe confirmations) verifies
as AWS tells subscribers to verify one: fetch the certificate at SigningCertURL, build the
string to sign from the message's fields, and check the RSA signature with its public key
(SHA1 for SignatureVersion 1, SHA256 for 2). The verification here is written from AWS's
documentation, not taken from Lamina, so it checks Lamina against AWS's rules.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.conftest import SNS, allow_service

from .test_lambda_helpers import function_arn, wait_for_log_lines
from .test_sns import Endpoint, confirmation_of, make_queue, receive

# AWS's "Verifying the signatures of Amazon SNS messages": the fields signed, in this order,
# each as "name\nvalue\n"; a notification's Subject only when it has one.
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def string_to_sign(message: dict) -> bytes:
    fields: tuple[str, ...]
    if message["Type"] == "Notification":
        fields = NOTIFICATION_FIELDS
    elif message["Type"] in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        fields = CONFIRMATION_FIELDS
    else:
        raise ValueError(f"unknown message type {message['Type']}")
    text = ""
    for name in fields:
        if name == "Subject" and message.get("Subject") is None:
            continue
        text += f"{name}\n{message[name]}\n"
    return text.encode("utf-8")


def fetch_certificate(url: str) -> x509.Certificate:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return x509.load_pem_x509_certificate(response.read())


def verify(message: dict, server_url: str) -> bool:
    """True when the message's signature verifies; the certificate must come from the
    server it claims to (as a subscriber checks that SigningCertURL is on SNS's own host)."""
    cert_url = message.get("SigningCertURL") or message["SigningCertUrl"]  # Lambda events spell it so
    parts, server = urlsplit(cert_url), urlsplit(server_url)
    assert (parts.hostname, parts.port) == (server.hostname, server.port), cert_url
    assert parts.path.endswith(".pem")
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    public_key = fetch_certificate(cert_url).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    try:
        public_key.verify(
            base64.b64decode(message["Signature"]), string_to_sign(message), padding.PKCS1v15(), algorithm
        )
    except InvalidSignature:
        return False
    return True


def tampered(message: dict, **changes) -> dict:
    return {**message, **changes}


@pytest.fixture
def sns(lamina):
    return lamina.client("sns")


@pytest.fixture
def endpoint():
    server = Endpoint()
    yield server
    server.close()


def _topic(sns, name: str, version: str | None) -> str:
    attributes = {"SignatureVersion": version} if version else {}
    return sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]


@pytest.mark.parametrize("version", [None, "1", "2"])
def test_a_notification_to_sqs_verifies(lamina, sns, sqs, unique_name, version):
    topic = _topic(sns, unique_name, version)
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)  # the queue lets SNS send, as AWS requires
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="signed\nover two lines, ünïcode", Subject="With a subject")
    sns.publish(TopicArn=topic, Message="no subject")
    envelopes = [json.loads(m["Body"]) for m in receive(sqs, url, count=2)]
    assert {e["Message"] for e in envelopes} == {"signed\nover two lines, ünïcode", "no subject"}
    for envelope in envelopes:
        assert envelope["SignatureVersion"] == (version or "1")
        assert len(base64.b64decode(envelope["Signature"])) == 256  # a 2048-bit RSA signature
        assert verify(envelope, lamina.url)
        assert not verify(tampered(envelope, Message=envelope["Message"] + "!"), lamina.url)
        assert not verify(tampered(envelope, TopicArn=topic + "-other"), lamina.url)
        assert not verify(tampered(envelope, Subject="added"), lamina.url)
        assert not verify(
            tampered(envelope, SignatureVersion={"1": "2", "2": "1"}[envelope["SignatureVersion"]]), lamina.url
        )


def test_http_confirmations_and_notifications_verify(lamina, sns, unique_name, endpoint):
    topic = _topic(sns, unique_name, "2")
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    confirmation = confirmation_of(endpoint)
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert verify(confirmation, lamina.url)
    token = confirmation["Token"]
    other = "1" if token.endswith("0") else "0"  # a changed token, whatever its last digit was
    assert not verify(tampered(confirmation, Token=token[:-1] + other), lamina.url)
    assert not verify(tampered(confirmation, SubscribeURL=confirmation["SubscribeURL"] + "&x=1"), lamina.url)
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as response:
        assert response.status == 200

    sns.publish(TopicArn=topic, Message="over http", Subject="S")
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "d", "http": "for http"}), MessageStructure="json")
    notifications = [body for _, body in endpoint.messages("Notification", 2)]
    assert {n["Message"] for n in notifications} == {"over http", "for http"}
    for notification in notifications:
        assert notification["SignatureVersion"] == "2"
        assert verify(notification, lamina.url)
        assert not verify(tampered(notification, Timestamp="2020-01-01T00:00:00.000Z"), lamina.url)

    with urllib.request.urlopen(notifications[0]["UnsubscribeURL"], timeout=10) as response:
        assert response.status == 200
    _, goodbye = endpoint.messages("UnsubscribeConfirmation")[0]
    assert isinstance(goodbye, dict)
    assert verify(goodbye, lamina.url)
    assert not verify(tampered(goodbye, Message="something else"), lamina.url)


def test_the_lambda_event_verifies(lamina, sns, create_function, unique_name):
    create_function(
        code={"app.py": 'import json\n\ndef handler(event, context):\n    print("EVENT " + json.dumps(event))\n'}
    )
    topic = _topic(sns, unique_name, None)
    lamina.client("lambda").add_permission(
        FunctionName=unique_name,
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn(unique_name))
    sns.publish(TopicArn=topic, Message="to the function")
    line = wait_for_log_lines(lamina, unique_name, "EVENT ", count=1, timeout=30)[0]
    record = json.loads(line.split("EVENT ", 1)[1])["Records"][0]["Sns"]
    assert record["Subject"] is None  # null in the event, so not in the string to sign
    assert verify(record, lamina.url)
    assert not verify(tampered(record, Message="to someone else"), lamina.url)


def test_the_signing_certificate(lamina, sns, sqs, unique_name):
    topic = _topic(sns, unique_name, None)
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)  # the queue lets SNS send, as AWS requires
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="m")
    cert_url = json.loads(receive(sqs, url)[0]["Body"])["SigningCertURL"]
    name = urlsplit(cert_url).path.rsplit("/", 1)[-1]
    assert name.startswith("SimpleNotificationService-") and name.endswith(".pem")
    certificate = fetch_certificate(cert_url)
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    assert certificate.issuer == certificate.subject  # self-signed
    certificate.verify_directly_issued_by(certificate)  # its signature is its own key's
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(cert_url.replace(name, "SimpleNotificationService-other.pem"), timeout=10)
    assert missing.value.code == 404


def test_the_key_survives_a_restart(lamina_factory, unique_name):
    server = lamina_factory()
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    url, queue_arn = make_queue(sqs, unique_name)
    allow_service(sqs, queue_arn, SNS, topic)  # the queue lets SNS send, as AWS requires
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="before")
    before = json.loads(receive(sqs, url)[0]["Body"])
    server.restart()
    sns, sqs = server.client("sns"), server.client("sqs")
    sns.publish(TopicArn=topic, Message="after")
    after = json.loads(receive(sqs, url)[0]["Body"])
    assert before["SigningCertURL"] == after["SigningCertURL"]
    assert verify(before, server.url) and verify(after, server.url)  # the certificate served now
