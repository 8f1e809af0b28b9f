"""Where a push or a text message "arrives": CloudWatch Logs, as AWS's delivery status logs.

Lamina sends nothing to Apple, Google or a phone carrier. Each delivery to a mobile endpoint
or a phone number becomes one log event in the group AWS writes its delivery status logs to,
written through the destinations registry (the "logs" deliverer: services/logs/target.py):

    sns/<region>/<account>/app/<PLATFORM>/<app name>[/Failure]    a platform endpoint
    sns/<region>/<account>/DirectPublishToPhoneNumber[/Failure]  Publish(PhoneNumber), OTPs
    sns/<region>/<account>/<topic name>[/Failure]                 a topic's sms subscription

Each event is AWS's record ({"notification": {...}, "delivery": {...}, "status"}), plus
what Lamina would have handed over: "payload" (a push: the platform's payload as sent) or
"message" (a text message). Writing a record never fails a delivery: a log group that cannot
be written is reported in Lamina's own log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from ... import ids
from ...engine.delivery.destinations import DeliveryError
from ...errors import ServiceError
from .state import now_ms

log = logging.getLogger("lamina.sns")

Send = Callable[..., Awaitable[None]]


def log_group_arn(region: str, account: str, group: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{group}"


def app_group(region: str, account: str, platform: str, app_name: str) -> str:
    return f"sns/{region}/{account}/app/{platform}/{app_name}"


def sms_group(region: str, account: str, topic_name: str | None = None) -> str:
    return f"sns/{region}/{account}/{topic_name or 'DirectPublishToPhoneNumber'}"


def stamp(ms: int) -> str:
    """AWS's notification timestamp in delivery status logs: "2016-06-28 00:40:34.558" (UTC)."""
    moment = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def sampled(rate: str | None) -> bool:
    """Whether a successful delivery is logged at a success sampling rate ("0".."100"; unset: all)."""
    if rate in (None, ""):
        return True
    try:
        percent = float(rate)
    except ValueError:
        return True
    return percent >= 100 or random.random() * 100 < percent


def notification(message: dict, now: int) -> dict:
    out = {
        "messageMD5Sum": hashlib.md5(message["message"].encode("utf-8")).hexdigest(),
        "messageId": message["id"],
        "timestamp": stamp(message["ms"]),
    }
    if message.get("topic"):
        out["topicArn"] = message["topic"]
    return out


class StatusLogs:
    def __init__(self, send: Send) -> None:
        self.send = send  # Destinations.send

    async def write(self, region: str, account: str, group: str, record: dict, success: bool) -> bool:
        """One event in `group` (its /Failure sibling for a failure); False if not written."""
        name = group if success else f"{group}/Failure"
        arn = log_group_arn(region, account, name)
        try:
            # SNS makes its log groups on AWS (its role has logs:CreateLogGroup): the option asks
            # the logs deliverer to do the same; one that does not know it needs the group made.
            await self.send(arn, json.dumps(record).encode("utf-8"), {}, create_log_group="true")
        except (ServiceError, DeliveryError, OSError) as error:
            log.warning("SNS delivery status log %s not written: %s", name, error)
            return False
        return True

    async def push(
        self,
        *,
        region: str,
        account: str,
        platform: str,
        app_name: str,
        endpoint_arn: str,
        token: str,
        message: dict,
        payload: str,
        success: bool,
        provider_response: str,
        status_code: int,
        sample_rate: str | None,
    ) -> None:
        now = now_ms()
        if success and not sampled(sample_rate):
            return
        record = {
            "notification": notification(message, now),
            "delivery": {
                "deliveryId": ids.uuid4(),
                "destination": endpoint_arn,
                "providerResponse": provider_response,
                "dwellTimeMs": max(0, now - message["ms"]),
                "attempts": 1,
                "token": token,
                "statusCode": status_code,
            },
            "status": "SUCCESS" if success else "FAILURE",
            "payload": payload,  # Lamina's: what the platform would have received
        }
        await self.write(region, account, app_group(region, account, platform, app_name), record, success)

    async def sms(
        self,
        *,
        region: str,
        account: str,
        number: str,
        message: dict,
        text: str,
        sms_type: str,
        success: bool,
        provider_response: str,
        topic_name: str | None = None,
        sample_rate: str | None = None,
    ) -> None:
        now = now_ms()
        if success and not sampled(sample_rate):
            return
        record = {
            "notification": notification(message, now),
            "delivery": {
                "phoneCarrier": "Lamina",
                "mnc": 0,
                "destination": number,
                "priceInUSD": 0.0,
                "smsType": sms_type,
                "mcc": 0,
                "providerResponse": provider_response,
                "dwellTimeMs": max(0, now - message["ms"]),
                "dwellTimeMsUntilDeviceAck": max(0, now - message["ms"]),
            },
            "status": "SUCCESS" if success else "FAILURE",
            "message": text,  # Lamina's: the text the phone would have received
        }
        await self.write(region, account, sms_group(region, account, topic_name), record, success)
