"""SNS mobile push and SMS against a live server, through boto3: platform applications and
endpoints, pushes (direct and through a topic) read back from CloudWatch Logs as AWS's
delivery status logs, disabled endpoints, the SMS sandbox (the one-time password read from
the log), texts to verified and unverified numbers, opt-out and opt-in, SMS settings, errors,
and all of it surviving a restart.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
import zlib

import pytest
from botocore.exceptions import ClientError

from .test_lambda_helpers import error_of, wait_until

ACCOUNT = "000000000000"
REGION = "us-east-1"
SMS_GROUP = f"sns/{REGION}/{ACCOUNT}/DirectPublishToPhoneNumber"
TIMEOUT = 30.0


@pytest.fixture
def sns(lamina):
    return lamina.client("sns")


@pytest.fixture
def logs(lamina):
    return lamina.client("logs")


def number_for(name: str, salt: str = "") -> str:
    """A phone number of this test's own (the server, and its account, are shared)."""
    return f"+1555{zlib.crc32((name + salt).encode()) % 10**7:07d}"


def ensure_groups(logs, *names: str) -> None:
    """The delivery status log groups (and their /Failure siblings), made if missing."""
    for name in names:
        for group in (name, f"{name}/Failure"):
            try:
                logs.create_log_group(logGroupName=group)
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    raise


def records(logs, group: str) -> list[dict]:
    try:
        events = logs.filter_log_events(logGroupName=group)["events"]
    except ClientError:
        return []
    return [json.loads(event["message"]) for event in events]


def wait_record(logs, group: str, predicate, what: str) -> dict:
    return wait_until(lambda: next((r for r in records(logs, group) if predicate(r)), None), timeout=TIMEOUT, what=what)


def app_group(platform: str, name: str) -> str:
    return f"sns/{REGION}/{ACCOUNT}/app/{platform}/{name}"


def make_app(sns, logs, name: str, platform: str = "GCM") -> str:
    attributes = {"PlatformCredential": "server-key"}
    if platform.startswith("APNS"):
        attributes = {"PlatformCredential": "-----BEGIN PRIVATE KEY-----", "PlatformPrincipal": "-----BEGIN CERT"}
    arn = sns.create_platform_application(Name=name, Platform=platform, Attributes=attributes)["PlatformApplicationArn"]
    ensure_groups(logs, app_group(platform, name))
    return arn


def otp_of(logs, number: str) -> str:
    record = wait_record(
        logs,
        SMS_GROUP,
        lambda r: r["delivery"]["destination"] == number and "verification code" in r["message"],
        f"the one-time password for {number}",
    )
    found = re.search(r"\b(\d{6})\b", record["message"])
    assert found is not None
    return found.group(1)


def verify(sns, logs, number: str) -> None:
    sns.create_sms_sandbox_phone_number(PhoneNumber=number, LanguageCode="en-US")
    sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=otp_of(logs, number))


# --- platform applications and endpoints -------------------------------------------------------


def test_platform_application_lifecycle(sns, logs, unique_name):
    arn = make_app(sns, logs, unique_name)
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:app/GCM/{unique_name}"

    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attributes["Enabled"] == "true"
    assert "PlatformCredential" not in attributes and "PlatformPrincipal" not in attributes

    sns.set_platform_application_attributes(
        PlatformApplicationArn=arn, Attributes={"SuccessFeedbackSampleRate": "100", "PlatformCredential": "new-key"}
    )
    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attributes["SuccessFeedbackSampleRate"] == "100"
    assert "PlatformCredential" not in attributes

    apns = make_app(sns, logs, unique_name, "APNS_SANDBOX")
    listed = [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]]
    assert arn in listed and apns in listed
    paginator = sns.get_paginator("list_platform_applications")
    assert arn in [a["PlatformApplicationArn"] for p in paginator.paginate() for a in p["PlatformApplications"]]

    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=arn, Token="device-1")["EndpointArn"]
    sns.delete_platform_application(PlatformApplicationArn=arn)
    with pytest.raises(ClientError) as excinfo:
        sns.get_platform_application_attributes(PlatformApplicationArn=arn)
    assert error_of(excinfo) == ("NotFound", 404, "PlatformApplication does not exist")
    with pytest.raises(ClientError) as excinfo:  # its endpoints went with it
        sns.get_endpoint_attributes(EndpointArn=endpoint)
    assert error_of(excinfo) == ("NotFound", 404, "Endpoint does not exist")
    sns.delete_platform_application(PlatformApplicationArn=arn)  # again: not an error
    sns.delete_platform_application(PlatformApplicationArn=apns)


def test_platform_application_errors(sns, unique_name):
    cases = [
        ({"Name": unique_name, "Platform": "FCM", "Attributes": {"PlatformCredential": "k"}}, "FCM is not supported"),
        ({"Name": "bad name!", "Platform": "GCM", "Attributes": {"PlatformCredential": "k"}}, "Name"),
        ({"Name": unique_name, "Platform": "GCM", "Attributes": {"Foo": "k"}}, "Invalid attribute name: Foo"),
        ({"Name": unique_name, "Platform": "GCM", "Attributes": {"PlatformPrincipal": "p"}}, "PlatformCredential"),
        (
            {"Name": unique_name, "Platform": "APNS", "Attributes": {"PlatformPrincipal": "p"}},
            "PlatformPrincipal attribute provided without PlatformCredential",
        ),
    ]
    for params, text in cases:
        with pytest.raises(ClientError) as excinfo:
            sns.create_platform_application(**params)
        code, status, message = error_of(excinfo)
        assert (code, status) == ("InvalidParameter", 400), params
        assert text in message, (params, message)
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:app/GCM/{unique_name}-missing"
    with pytest.raises(ClientError) as excinfo:
        sns.list_endpoints_by_platform_application(PlatformApplicationArn=missing)
    assert error_of(excinfo)[:2] == ("NotFound", 404)
    with pytest.raises(ClientError) as excinfo:
        sns.create_platform_endpoint(PlatformApplicationArn=missing, Token="t")
    assert error_of(excinfo)[:2] == ("NotFound", 404)


def test_endpoint_lifecycle(sns, logs, unique_name):
    app = make_app(sns, logs, unique_name)
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="token-a", CustomUserData="user 1")[
        "EndpointArn"
    ]
    assert re.fullmatch(rf"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/{unique_name}/[0-9a-f-]{{36}}", arn)
    # The same token and attributes: the same endpoint; different attributes: AWS's error.
    again = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="token-a", CustomUserData="user 1")
    assert again["EndpointArn"] == arn
    with pytest.raises(ClientError) as excinfo:
        sns.create_platform_endpoint(PlatformApplicationArn=app, Token="token-a", CustomUserData="user 2")
    assert error_of(excinfo) == (
        "InvalidParameter",
        400,
        f"Invalid parameter: Token Reason: Endpoint {arn} already exists with the same Token, but different "
        "attributes.",
    )

    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "true",
        "Token": "token-a",
        "CustomUserData": "user 1",
    }
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": "token-b", "Enabled": "false"})
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "false",
        "Token": "token-b",
        "CustomUserData": "user 1",
    }
    with pytest.raises(ClientError) as excinfo:
        sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Colour": "blue"})
    assert error_of(excinfo)[:2] == ("InvalidParameter", 400)

    other = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="token-c")["EndpointArn"]
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert sorted(e["EndpointArn"] for e in listed) == sorted([arn, other])
    assert {e["EndpointArn"]: e["Attributes"]["Token"] for e in listed} == {arn: "token-b", other: "token-c"}

    sns.delete_endpoint(EndpointArn=arn)
    sns.delete_endpoint(EndpointArn=arn)  # again: not an error
    with pytest.raises(ClientError) as excinfo:
        sns.get_endpoint_attributes(EndpointArn=arn)
    assert error_of(excinfo) == ("NotFound", 404, "Endpoint does not exist")
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert [e["EndpointArn"] for e in listed] == [other]


# --- pushes ------------------------------------------------------------------------------------


def test_publish_to_an_endpoint_lands_in_its_log_group(sns, logs, unique_name):
    app = make_app(sns, logs, unique_name)
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="gcm-token")["EndpointArn"]
    gcm = json.dumps({"fcmV1Message": {"message": {"notification": {"title": "Hi", "body": "There"}}}})
    message_id = sns.publish(
        TargetArn=endpoint, MessageStructure="json", Message=json.dumps({"GCM": gcm, "default": "plain"})
    )["MessageId"]
    plain_id = sns.publish(TargetArn=endpoint, Message="just text")["MessageId"]

    group = app_group("GCM", unique_name)
    record = wait_record(logs, group, lambda r: r["notification"]["messageId"] == message_id, "the push's record")
    assert record["status"] == "SUCCESS"
    assert record["delivery"]["destination"] == endpoint
    assert record["delivery"]["token"] == "gcm-token"
    assert record["delivery"]["statusCode"] == 200
    assert isinstance(record["delivery"]["dwellTimeMs"], int)
    assert record["delivery"]["providerResponse"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", record["notification"]["timestamp"])
    assert record["payload"] == gcm  # the platform's own entry, as sent

    plain = wait_record(logs, group, lambda r: r["notification"]["messageId"] == plain_id, "the plain push")
    assert json.loads(plain["payload"]) == {"data": {"default": "just text"}}


def test_a_topic_fans_out_to_endpoints(sns, logs, unique_name):
    gcm_app = make_app(sns, logs, unique_name, "GCM")
    apns_app = make_app(sns, logs, unique_name, "APNS")
    android = sns.create_platform_endpoint(PlatformApplicationArn=gcm_app, Token="android")["EndpointArn"]
    iphone = sns.create_platform_endpoint(PlatformApplicationArn=apns_app, Token="iphone")["EndpointArn"]
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    for endpoint in (android, iphone):
        subscription = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)["SubscriptionArn"]
        assert subscription.startswith(topic + ":")
    apns = json.dumps({"aps": {"alert": "for iOS"}})
    message_id = sns.publish(
        TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "for everyone", "APNS": apns})
    )["MessageId"]

    on_android = wait_record(
        logs, app_group("GCM", unique_name), lambda r: r["notification"]["messageId"] == message_id, "android's push"
    )
    assert on_android["notification"]["topicArn"] == topic
    assert json.loads(on_android["payload"]) == {"data": {"default": "for everyone"}}
    on_iphone = wait_record(
        logs, app_group("APNS", unique_name), lambda r: r["notification"]["messageId"] == message_id, "iOS's push"
    )
    assert on_iphone["payload"] == apns
    assert on_iphone["delivery"]["destination"] == iphone


def test_a_disabled_endpoint(sns, logs, unique_name):
    app = make_app(sns, logs, unique_name)
    endpoint = sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="old-device", Attributes={"Enabled": "false"}
    )["EndpointArn"]
    with pytest.raises(ClientError) as excinfo:
        sns.publish(TargetArn=endpoint, Message="hello")
    assert error_of(excinfo) == ("EndpointDisabled", 400, "Endpoint is disabled")

    # Through a topic the publish succeeds and the delivery fails, into the /Failure group.
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)
    message_id = sns.publish(TopicArn=topic, Message="hello")["MessageId"]
    failure = wait_record(
        logs,
        app_group("GCM", unique_name) + "/Failure",
        lambda r: r["notification"]["messageId"] == message_id,
        "the failed delivery",
    )
    assert failure["status"] == "FAILURE"
    assert failure["delivery"]["providerResponse"] == "Endpoint is disabled"

    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "true"})
    assert sns.publish(TargetArn=endpoint, Message="hello again")["MessageId"]


def test_publish_errors(sns, unique_name):
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/{unique_name}/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as excinfo:
        sns.publish(TargetArn=missing, Message="x")
    assert error_of(excinfo) == (
        "InvalidParameter",
        400,
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified",
    )
    for number in ("abc", "12", "+0123456789", "+1234567890123456"):
        with pytest.raises(ClientError) as excinfo:
            sns.publish(PhoneNumber=number, Message="x")
        assert error_of(excinfo) == (
            "InvalidParameter",
            400,
            f"Invalid parameter: PhoneNumber Reason: {number} is not valid to publish to",
        )
    topic = sns.create_topic(Name=unique_name)["TopicArn"]
    with pytest.raises(ClientError) as excinfo:
        sns.publish(TopicArn=topic, PhoneNumber="+15555550100", Message="x")
    assert error_of(excinfo)[:2] == ("InvalidParameter", 400)
    with pytest.raises(ClientError) as excinfo:
        sns.publish(PhoneNumber="+15555550100", Message="x" * 1601)
    assert error_of(excinfo) == ("InvalidParameter", 400, "Invalid parameter: Message too long")
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="not-a-number")
    assert error_of(excinfo)[:2] == ("InvalidParameter", 400)
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=topic, Protocol="application", Endpoint="arn:aws:sns:us-east-1:000000000000:nope")
    assert error_of(excinfo)[:2] == ("InvalidParameter", 400)


# --- SMS ---------------------------------------------------------------------------------------


def test_sms_sandbox_verify_flow_and_texts(sns, logs, unique_name):
    ensure_groups(logs, SMS_GROUP)
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is True
    number, stranger = number_for(unique_name), number_for(unique_name, "stranger")

    sns.create_sms_sandbox_phone_number(PhoneNumber=number, LanguageCode="en-US")
    listed = sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]
    assert {"PhoneNumber": number, "Status": "Pending"} in listed
    otp = otp_of(logs, number)
    wrong = "000000" if otp != "000000" else "111111"
    with pytest.raises(ClientError) as excinfo:
        sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=wrong)
    assert error_of(excinfo)[:2] == ("VerificationException", 400)
    with pytest.raises(ClientError) as excinfo:
        sns.verify_sms_sandbox_phone_number(PhoneNumber=stranger, OneTimePassword=otp)
    assert error_of(excinfo)[:2] == ("ResourceNotFound", 404)
    sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=otp)
    assert {"PhoneNumber": number, "Status": "Verified"} in sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]

    # A verified number gets the text; another one is refused by the sandbox, as on AWS.
    sent = sns.publish(
        PhoneNumber=number,
        Message="Your table is ready",
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )["MessageId"]
    refused = sns.publish(PhoneNumber=stranger, Message="Hello stranger")["MessageId"]
    record = wait_record(logs, SMS_GROUP, lambda r: r["notification"]["messageId"] == sent, "the text's record")
    assert record["status"] == "SUCCESS"
    assert record["message"] == "Your table is ready"
    assert record["delivery"]["destination"] == number
    assert record["delivery"]["smsType"] == "Transactional"
    assert record["delivery"]["providerResponse"] == "Message has been accepted by phone carrier"
    failure = wait_record(
        logs, SMS_GROUP + "/Failure", lambda r: r["notification"]["messageId"] == refused, "the refused text"
    )
    assert failure["status"] == "FAILURE"
    assert failure["delivery"]["providerResponse"] == "Sandboxed account unable to send to number"

    sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    with pytest.raises(ClientError) as excinfo:
        sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    assert error_of(excinfo)[:2] == ("ResourceNotFound", 404)


def test_a_topic_texts_its_sms_subscribers(sns, logs, unique_name):
    ensure_groups(logs, SMS_GROUP, f"sns/{REGION}/{ACCOUNT}/{unique_name}")
    number = number_for(unique_name)
    verify(sns, logs, number)
    topic = sns.create_topic(Name=unique_name, Attributes={"DisplayName": "Bistro"})["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=number)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]["PendingConfirmation"] == (
        "false"
    )
    message_id = sns.publish(TopicArn=topic, Message="Soup of the day: leek")["MessageId"]
    record = wait_record(
        logs,
        f"sns/{REGION}/{ACCOUNT}/{unique_name}",
        lambda r: r["notification"]["messageId"] == message_id,
        "the topic's text",
    )
    assert record["message"] == "Bistro> Soup of the day: leek"
    assert record["notification"]["topicArn"] == topic
    assert record["delivery"]["destination"] == number


def test_opt_out_and_in(sns, logs, lamina, unique_name):
    ensure_groups(logs, SMS_GROUP)
    number = number_for(unique_name)
    verify(sns, logs, number)
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False

    # The recipient replies STOP (Lamina's stand-in for a text back to the sender).
    query = urllib.parse.urlencode({"PhoneNumber": number, "Message": "STOP"})
    with urllib.request.urlopen(f"{lamina.url}/_lamina/sns/reply?{query}", timeout=10) as response:
        assert response.status == 200
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is True
    opted_out = [n for p in sns.get_paginator("list_phone_numbers_opted_out").paginate() for n in p["phoneNumbers"]]
    assert number in opted_out

    message_id = sns.publish(PhoneNumber=number, Message="Sale!")["MessageId"]
    failure = wait_record(
        logs, SMS_GROUP + "/Failure", lambda r: r["notification"]["messageId"] == message_id, "the opted-out text"
    )
    assert failure["delivery"]["providerResponse"] == "Phone number is opted out"
    other = number_for(unique_name, "other")
    sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    with pytest.raises(ClientError) as excinfo:
        sns.create_sms_sandbox_phone_number(PhoneNumber=number)
    assert error_of(excinfo)[:2] == ("OptedOut", 400)

    sns.opt_in_phone_number(phoneNumber=number)
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=other)["isOptedOut"] is False
    with pytest.raises(ClientError) as excinfo:
        sns.check_if_phone_number_is_opted_out(phoneNumber="not a number")
    assert error_of(excinfo)[:2] == ("InvalidParameter", 400)


def test_sms_attributes(lamina_factory):
    server = lamina_factory()  # a server of its own: the settings are the whole account's
    sns = server.client("sns")
    assert sns.get_sms_attributes()["attributes"] == {"MonthlySpendLimit": "1"}
    sns.set_sms_attributes(
        attributes={
            "DefaultSMSType": "Transactional",
            "DefaultSenderID": "Bistro",
            "MonthlySpendLimit": "5",
            "DeliveryStatusSuccessSamplingRate": "100",
        }
    )
    assert sns.get_sms_attributes(attributes=["DefaultSMSType", "DefaultSenderID"])["attributes"] == {
        "DefaultSMSType": "Transactional",
        "DefaultSenderID": "Bistro",
    }
    for attributes in ({"Colour": "blue"}, {"DefaultSMSType": "Urgent"}, {"DeliveryStatusSuccessSamplingRate": "x"}):
        with pytest.raises(ClientError) as excinfo:
            sns.set_sms_attributes(attributes=attributes)
        assert error_of(excinfo)[:2] == ("InvalidParameter", 400), attributes
    # Another region has settings of its own.
    assert server.client("sns", region_name="eu-west-1").get_sms_attributes()["attributes"] == {
        "MonthlySpendLimit": "1"
    }


def test_everything_survives_a_restart(lamina_factory, unique_name):
    server = lamina_factory()
    sns, logs = server.client("sns"), server.client("logs")
    ensure_groups(logs, SMS_GROUP)
    app = make_app(sns, logs, unique_name)
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1", CustomUserData="u")["EndpointArn"]
    number, quitter = number_for(unique_name), number_for(unique_name, "quitter")
    verify(sns, logs, number)
    sns.create_sms_sandbox_phone_number(PhoneNumber=quitter)
    query = urllib.parse.urlencode({"PhoneNumber": quitter, "Message": "stop"})
    with urllib.request.urlopen(f"{server.url}/_lamina/sns/reply?{query}", timeout=10):
        pass
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional"})

    server.restart()
    sns, logs = server.client("sns"), server.client("logs")
    assert sns.get_endpoint_attributes(EndpointArn=endpoint)["Attributes"] == {
        "Enabled": "true",
        "Token": "t1",
        "CustomUserData": "u",
    }
    assert [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]] == [app]
    assert {"PhoneNumber": number, "Status": "Verified"} in sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=quitter)["isOptedOut"] is True
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}

    push = sns.publish(TargetArn=endpoint, Message="after the restart")["MessageId"]
    text = sns.publish(PhoneNumber=number, Message="still here")["MessageId"]
    wait_record(logs, app_group("GCM", unique_name), lambda r: r["notification"]["messageId"] == push, "the push")
    record = wait_record(logs, SMS_GROUP, lambda r: r["notification"]["messageId"] == text, "the text")
    assert record["delivery"]["smsType"] == "Transactional"

    # Another region knows none of it.
    west = server.client("sns", region_name="us-west-2")
    assert west.list_platform_applications()["PlatformApplications"] == []
    with pytest.raises(ClientError) as excinfo:
        west.get_endpoint_attributes(EndpointArn=endpoint)
    assert error_of(excinfo)[:2] == ("NotFound", 404)
    assert west.check_if_phone_number_is_opted_out(phoneNumber=quitter)["isOptedOut"] is False
