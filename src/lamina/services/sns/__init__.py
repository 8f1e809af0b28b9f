"""Amazon SNS: topics (standard and FIFO), subscriptions to Lambda, SQS, HTTP/S, phone numbers
and mobile endpoints, filter policies, mobile push and SMS, durable in the store, served over
the query protocol.

    state.py          topics and subscriptions: store layout, finding, persisting
    attributes.py     topic and subscription attributes; the HTTP/S delivery policy
    topics.py         CreateTopic, DeleteTopic, ListTopics, topic attributes, tags
    subscriptions.py  Subscribe, ConfirmSubscription, Unsubscribe, listing, attributes
    publish.py        Publish, PublishBatch; deliver() for Lambda destinations / DLQs
    envelopes.py      what subscribers receive: envelope, Lambda event, confirmations
    delivery.py       background deliveries through the engine's outbox: each
                      subscription's retry policy, dead letters; confirmations
    platforms.py      mobile push: platform applications and endpoints, push payloads
    sms.py            SMS settings, the SMS sandbox (one-time passwords), opt-outs
    mobile.py         delivering to an endpoint or a phone number (Lamina sends nothing out)
    status_logs.py    where such a delivery lands: AWS's delivery status logs in CloudWatch
                      Logs (sns/<region>/<account>/app/<PLATFORM>/<app>, .../DirectPublishTo-
                      PhoneNumber), written through the destinations' "logs" deliverer
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from ...engine.delivery.destinations import Destinations
from ...engine.delivery.retry import RetryPolicy
from ...errors import ServiceError
from ...store.base import Store
from ..context import RequestContext
from .delivery import MANAGED_RETRY_DELAYS_S, Deliverer
from .mobile import MobileDelivery
from .platforms import PlatformsApi, PlatformState
from .publish import PublishApi
from .signing import Signer
from .sms import SmsApi, SmsState
from .state import SnsState
from .status_logs import StatusLogs
from .subscriptions import SubscriptionsApi
from .topics import TopicsApi

log = logging.getLogger("lamina")


class SnsService(TopicsApi, SubscriptionsApi, PublishApi, PlatformsApi, SmsApi):
    service_name = "sns"

    def __init__(
        self,
        store: Store,
        destinations: Destinations,
        endpoint_url: str = "http://127.0.0.1:4566",
        retry_delays_s: tuple[float, ...] = MANAGED_RETRY_DELAYS_S,
        retry_policy: RetryPolicy | None = None,
        signer: Signer | None = None,
    ) -> None:
        """`retry_delays_s` is the shorthand for `retry_policy`: how Lambda and SQS
        subscriptions are retried (HTTP/S ones follow their delivery policy)."""
        self.state = SnsState(store)
        self.endpoint_url = endpoint_url
        self.deliverer = Deliverer(self.state, destinations.send, retry_delays_s, policy=retry_policy, signer=signer)
        self.signer = self.deliverer.signer  # its certificate is served at the SigningCertURL
        self.platforms = PlatformState(store)
        self.sms = SmsState(store)
        self.mobile = MobileDelivery(self.platforms, self.sms, StatusLogs(destinations.send))
        self.deliverer.mobile = self.mobile

    async def start(self) -> None:
        """Load topics and subscriptions; resume the deliveries a stop interrupted."""
        await self.state.load()
        await self.platforms.load()
        await self.sms.load()
        resumed = await self.deliverer.start()
        if resumed:
            log.info("resumed %d undelivered SNS deliveries", resumed)

    async def stop(self) -> None:
        await self.deliverer.stop()

    async def reset(self) -> None:
        """No topic or subscription; pending deliveries were stopped and their items go with
        the store's contents."""
        self.state.reset()
        self.platforms.reset()
        self.sms.reset()

    async def send_otp(self, number: str, otp: str, ctx: RequestContext) -> None:
        await self.mobile.otp(number, otp, ctx.account_id, ctx.region)

    async def follow_link(self, path: str, query_string: str, ctx: RequestContext) -> tuple[str, dict]:
        """The links SNS puts in its messages, followed without a signature as on AWS:
        .../confirm (the SubscribeURL) and .../unsubscribe (the UnsubscribeURL); and
        .../reply, a phone's text back to the sender (sms.py: STOP opts it out).
        Returns (operation name, result); raises ServiceError."""
        params = dict(parse_qsl(query_string, keep_blank_values=True))
        if path.endswith("/confirm"):
            for name in ("TopicArn", "Token"):
                if not params.get(name):
                    raise ServiceError("InvalidParameter", f"Invalid parameter: {name}", 400)
            return "ConfirmSubscription", await self.confirm_subscription(
                {"TopicArn": params["TopicArn"], "Token": params["Token"]}, ctx
            )
        if path.endswith("/unsubscribe"):
            if not params.get("SubscriptionArn"):
                raise ServiceError("InvalidParameter", "Invalid parameter: SubscriptionArn", 400)
            subscription = self.state.subscriptions.get(params["SubscriptionArn"])
            if subscription is not None and subscription.authenticated:
                # AuthenticateOnUnsubscribe (ConfirmationWasAuthenticated): only a signed
                # Unsubscribe by the subscription's or the topic's owner removes it.
                raise ServiceError(
                    "AuthorizationError", "Unsubscribe requires authentication for this subscription", 403
                )
            return "Unsubscribe", await self.unsubscribe({"SubscriptionArn": params["SubscriptionArn"]}, ctx)
        if path.endswith("/reply"):
            # Lamina's stand-in for a recipient's text back (STOP opts the number out): sms.py.
            for name in ("PhoneNumber", "Message"):
                if not params.get(name):
                    raise ServiceError("InvalidParameter", f"Invalid parameter: {name}", 400)
            await self.reply(params["PhoneNumber"], params["Message"], ctx)
            return "OptInPhoneNumber", {}
        raise ServiceError("NotFound", f"No such SNS link: {path}", 404)
