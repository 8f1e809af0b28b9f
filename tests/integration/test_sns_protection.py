"""SNS against a live server: filter policies' numbers at AWS's documented precision, message
data protection policies (Deny, Deidentify, Audit, Inbound and Outbound) through real SQS
subscriptions, and the UnsubscribeURL of a subscription that must be unsubscribed signed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SNS, allow_service

from .test_sns import Endpoint, code_of, confirmation_of, make_queue, nothing_arrives, receive

EMAIL = "arn:aws:dataprotection::aws:data-identifier/EmailAddress"
CARD = "arn:aws:dataprotection::aws:data-identifier/CreditCardNumber"


@pytest.fixture
def sns(lamina):
    return lamina.client("sns")


def _queue(sns, sqs, topic: str, name: str, **attributes) -> str:
    url, arn = make_queue(sqs, name)
    allow_service(sqs, arn, SNS, topic)
    attributes.setdefault("RawMessageDelivery", "true")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def _number(value: str) -> dict:
    return {"DataType": "Number", "StringValue": value}


# --- numbers in filter policies --------------------------------------------------------------


def test_numeric_filters_at_aws_precision(sns, sqs, unique_name):
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    url = _queue(
        sns,
        sqs,
        topic,
        f"{unique_name}-q",
        FilterPolicy=json.dumps({"price": [{"numeric": ["=", 301.5]}, {"numeric": [">", 999999999]}]}),
    )
    for body, value in [
        ("five-decimals-equal", "301.500001"),  # equal at five decimals
        ("exponent", "3.015e2"),
        ("edge", "1000000000"),
        ("fifth-decimal-differs", "301.50001"),
        ("beyond-the-range", "1000000001"),  # not a number to the numeric operators
    ]:
        sns.publish(TopicArn=topic, Message=body, MessageAttributes={"price": _number(value)})
    got = {m["Body"] for m in receive(sqs, url, 3)}
    assert got == {"five-decimals-equal", "exponent", "edge"}
    assert nothing_arrives(sqs, url)


def test_a_numeric_bound_outside_the_range_is_refused(sns, sqs, unique_name):
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    _, queue_arn = make_queue(sqs, f"{unique_name}-q")
    policy = json.dumps({"price": [{"numeric": [">", 1e10]}]})
    with pytest.raises(ClientError) as caught:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicy": policy})
    assert code_of(caught) == ("InvalidParameter", 400)
    assert "Value must be between -1.0E9 and 1.0E9, inclusive" in caught.value.response["Error"]["Message"]
    arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    with pytest.raises(ClientError) as caught:
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=policy)
    assert caught.value.response["Error"]["Message"] == (
        "Invalid parameter: FilterPolicy: Value must be between -1.0E9 and 1.0E9, inclusive"
    )


# --- data protection -------------------------------------------------------------------------


def _policy(*statements: dict, **extra) -> str:
    return json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": list(statements), **extra})


def _statement(direction: str, identifiers: list[str], operation: dict, principal: list[str] | None = None) -> dict:
    return {
        "Sid": f"{direction}-{next(iter(operation))}",
        "DataDirection": direction,
        "Principal": principal or ["*"],
        "DataIdentifier": identifiers,
        "Operation": operation,
    }


def test_data_protection_policy_is_stored_and_checked(sns, unique_name):
    policy = _policy(_statement("Inbound", [EMAIL], {"Deny": {}}))
    topic = sns.create_topic(Name=unique_name, DataProtectionPolicy=policy)["TopicArn"]
    assert json.loads(sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"]) == json.loads(policy)
    other = _policy(_statement("Outbound", [CARD], {"Deidentify": {"RedactConfig": {}}}))
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=other)
    assert sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"] == other
    bad = [
        "not json",
        json.dumps({"Name": "p", "Version": "2012-10-17", "Statement": [_statement("Inbound", [EMAIL], {"Deny": {}})]}),
        _policy(_statement("Sideways", [EMAIL], {"Deny": {}})),
        _policy(_statement("Inbound", ["arn:aws:dataprotection::aws:data-identifier/NoSuchThing"], {"Deny": {}})),
        _policy(_statement("Inbound", [EMAIL], {"Shred": {}})),
        _policy(_statement("Inbound", [EMAIL], {"Deidentify": {"MaskConfig": {"MaskWithCharacter": "##"}}})),
        _policy(_statement("Outbound", [EMAIL], {"Audit": {"SampleRate": "99", "FindingsDestination": {}}})),
        _policy(
            _statement(
                "Inbound",
                [EMAIL],
                {"Audit": {"SampleRate": "99", "FindingsDestination": {"CloudWatchLogs": {"LogGroup": "plain"}}}},
            )
        ),
        _policy(_statement("Inbound", ["MyIds"], {"Deny": {}})),  # no such custom identifier
    ]
    for text in bad:
        with pytest.raises(ClientError) as caught:
            sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=text)
        assert code_of(caught) == ("InvalidParameter", 400), text
    with pytest.raises(ClientError) as caught:
        sns.get_data_protection_policy(ResourceArn=topic + "-missing")
    assert code_of(caught) == ("NotFound", 404)


def test_inbound_deny_refuses_the_publish(sns, sqs, unique_name):
    policy = _policy(_statement("Inbound", [CARD], {"Deny": {}}))
    topic = sns.create_topic(Name=unique_name, DataProtectionPolicy=policy)["TopicArn"]
    url = _queue(sns, sqs, topic, f"{unique_name}-q")
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=topic, Message="pay with 4111 1111 1111 1111 please")
    assert code_of(caught) == ("AuthorizationError", 403)
    sns.publish(TopicArn=topic, Message="pay with 4111 1111 1111 1112 please")  # fails Luhn: not a card
    result = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "card 5555555555554444"},
            {"Id": "b", "Message": "nothing sensitive"},
        ],
    )
    assert [f["Id"] for f in result["Failed"]] == ["a"] and result["Failed"][0]["Code"] == "AuthorizationError"
    got = {m["Body"] for m in receive(sqs, url, 2)}
    assert got == {"pay with 4111 1111 1111 1112 please", "nothing sensitive"}


def test_deidentify_inbound_and_outbound_per_principal(sns, sqs, unique_name):
    policy = _policy(
        _statement("Inbound", [EMAIL], {"Deidentify": {"MaskConfig": {"MaskWithCharacter": "#"}}}),
        _statement("Outbound", ["Ticket"], {"Deidentify": {"RedactConfig": {}}}, ["arn:aws:iam::000000000000:root"]),
        _statement("Outbound", [CARD], {"Deny": {}}),
        Configuration={"CustomDataIdentifier": [{"Name": "Ticket", "Regex": "TKT-[0-9]{4}"}]},
    )
    topic = sns.create_topic(Name=unique_name, DataProtectionPolicy=policy)["TopicArn"]
    raw = _queue(sns, sqs, topic, f"{unique_name}-raw")
    enveloped = _queue(sns, sqs, topic, f"{unique_name}-env", RawMessageDelivery="false")
    sns.publish(TopicArn=topic, Message="from ann@example.com about TKT-1234")
    sns.publish(TopicArn=topic, Message="card 4111111111111111")  # Outbound Deny: nobody receives it
    sns.publish(TopicArn=topic, Message="plain")
    expected = {"from " + "#" * len("ann@example.com") + " about ", "plain"}
    assert {m["Body"] for m in receive(sqs, raw, 2)} == expected
    assert {json.loads(m["Body"])["Message"] for m in receive(sqs, enveloped, 2)} == expected
    assert nothing_arrives(sqs, raw) and nothing_arrives(sqs, enveloped, 0.2)


def test_audit_findings_go_to_the_log_group(lamina, sns, unique_name):
    group = f"/aws/vendedlogs/{unique_name}"
    audit = {
        "SampleRate": "99",
        "FindingsDestination": {"CloudWatchLogs": {"LogGroup": group}},
    }
    topic = sns.create_topic(
        Name=unique_name, DataProtectionPolicy=_policy(_statement("Inbound", [EMAIL, CARD], {"Audit": audit}))
    )["TopicArn"]
    ids = [sns.publish(TopicArn=topic, Message=f"write to bo{i}@example.org")["MessageId"] for i in range(4)]
    logs = lamina.client("logs")
    records: list[dict] = []
    deadline = time.monotonic() + 15
    while not records and time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except ClientError:
            events = []
        records = [json.loads(e["message"]) for e in events]
        if not records:
            time.sleep(0.2)
    assert records, "no audit finding written"  # 99 % sampled: four messages all skipped is ~1e-8
    for record in records:
        assert record["messageId"] in ids and record["resourceArn"] == topic
        assert record["callerPrincipal"] == "arn:aws:iam::000000000000:root"
        assert record["dataIdentifiers"][0]["name"] == "EmailAddress"
        assert record["dataIdentifiers"][0]["count"] == 1
        assert record["dataIdentifiers"][0]["detections"] == [{"start": 9, "end": 23}]


# --- the UnsubscribeURL ----------------------------------------------------------------------


def test_unsubscribe_url_of_an_authenticated_confirmation_needs_a_signature(sns, unique_name):
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    endpoint = Endpoint()
    try:
        arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, ReturnSubscriptionArn=True)[
            "SubscriptionArn"
        ]
        token = confirmation_of(endpoint)["Token"]
        sns.confirm_subscription(TopicArn=topic, Token=token, AuthenticateOnUnsubscribe="true")
        attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        assert attributes["ConfirmationWasAuthenticated"] == "true"
        sns.publish(TopicArn=topic, Message="hello")
        _, envelope = endpoint.messages("Notification")[0]
        url = envelope["UnsubscribeURL"]
        assert "?Action=Unsubscribe&SubscriptionArn=" in url
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url, timeout=10)
        assert caught.value.code == 403 and b"AuthorizationError" in caught.value.read()
        assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["SubscriptionArn"] == arn
        sns.unsubscribe(SubscriptionArn=arn)  # signed: allowed
        with pytest.raises(ClientError) as gone:
            sns.get_subscription_attributes(SubscriptionArn=arn)
        assert code_of(gone) == ("NotFound", 404)
    finally:
        endpoint.close()
