"""Delivering to a mobile endpoint or a phone number: a Publish with TargetArn = an endpoint
ARN or with PhoneNumber, and a topic's "application" and "sms" subscriptions. Called by the
outbox (delivery.py) at each attempt, so the endpoint, the number's sandbox status and its
opt-out are those of the moment of delivery, as on AWS. The outcome is a delivery status
log record (status_logs.py): SUCCESS with the payload or text, or FAILURE with AWS's reason.
"""

from __future__ import annotations

from ... import ids
from .envelopes import message_for
from .platforms import PlatformState, provider_response, push_payload
from .sms import SmsState
from .state import Topic, now_ms
from .status_logs import StatusLogs

SMS_ACCEPTED = "Message has been accepted by phone carrier"
SMS_SANDBOXED = "Sandboxed account unable to send to number"
SMS_OPTED_OUT = "Phone number is opted out"
ENDPOINT_DISABLED = "Endpoint is disabled"


class MobileDelivery:
    def __init__(self, platforms: PlatformState, sms: SmsState, logs: StatusLogs) -> None:
        self.platforms = platforms
        self.sms = sms
        self.logs = logs

    async def to_endpoint(self, endpoint_arn: str, message: dict) -> None:
        endpoint = self.platforms.endpoints.get(endpoint_arn)
        app = self.platforms.apps.get(endpoint.app_arn) if endpoint is not None else None
        if endpoint is None or app is None:
            return  # deleted meanwhile: nothing to deliver to
        enabled = endpoint.enabled
        await self.logs.push(
            region=app.region,
            account=app.account,
            platform=app.platform,
            app_name=app.name,
            endpoint_arn=endpoint.arn,
            token=endpoint.token,
            message=message,
            payload=push_payload(app.platform, message),
            success=enabled,
            provider_response=provider_response(app.platform) if enabled else ENDPOINT_DISABLED,
            status_code=200 if enabled else 400,
            sample_rate=app.attributes.get("SuccessFeedbackSampleRate"),
        )

    async def to_number(self, number: str, message: dict, account: str, region: str, topic: Topic | None) -> None:
        settings = self.sms.of(account, region)
        text = message_for("sms", message)
        display = topic.attributes.get("DisplayName") if topic is not None else None
        if display:  # a topic's texts start with its display name, as on AWS
            text = f"{display}> {text}"
        sms_type = ((message.get("attributes") or {}).get("AWS.SNS.SMS.SMSType") or {}).get("Value")
        if number in settings.opted_out:
            success, response = False, SMS_OPTED_OUT
        elif not settings.verified(number):  # every account is in the SMS sandbox (sms.py)
            success, response = False, SMS_SANDBOXED
        else:
            success, response = True, SMS_ACCEPTED
        await self.logs.sms(
            region=region,
            account=account,
            number=number,
            message=message,
            text=text,
            sms_type=sms_type or settings.sms_type,
            success=success,
            provider_response=response,
            topic_name=topic.name if topic is not None else None,
            sample_rate=settings.attributes.get("DeliveryStatusSuccessSamplingRate"),
        )

    async def otp(self, number: str, otp: str, account: str, region: str) -> None:
        """The sandbox's one-time password, "texted" to the number being verified (always logged)."""
        text = f"Your Amazon SNS SMS sandbox verification code is {otp}."
        message = {"id": ids.uuid4(), "ms": now_ms(), "message": text}
        await self.logs.sms(
            region=region,
            account=account,
            number=number,
            message=message,
            text=text,
            sms_type="Transactional",
            success=True,
            provider_response=SMS_ACCEPTED,
        )
