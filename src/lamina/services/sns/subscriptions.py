"""Subscription operations: Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions,
ListSubscriptionsByTopic, Get/SetSubscriptionAttributes.

Lambda, SQS, SMS (a phone number) and application (a mobile endpoint's ARN) subscriptions
are confirmed at once. An HTTP/S endpoint is sent a
SubscriptionConfirmation (Token and SubscribeURL) and stays pending until ConfirmSubscription
with that token, or a GET of the SubscribeURL (served by Lamina under /_lamina/sns/confirm).
"""

from __future__ import annotations

import re
import secrets
import uuid

from ...errors import ServiceError
from ..context import RequestContext
from . import attributes as attrs
from .delivery import Deliverer
from .platforms import is_endpoint_arn
from .sms import normal, valid_number
from .state import SnsState, Subscription, invalid, now_ms
from .topics import page

PENDING = "pending confirmation"  # what Subscribe answers for an unconfirmed subscription
DELIVERED = {"lambda", "sqs", "http", "https", "sms", "application"}
AWS_ONLY = {"email", "email-json", "firehose"}
_SQS_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$")


def _check_endpoint(protocol: str, endpoint: str | None, fifo_topic: bool) -> str:
    if not endpoint:
        raise invalid("Endpoint")
    if protocol == "sqs":
        if not _SQS_ARN.match(endpoint):
            raise invalid("SQS endpoint ARN")
        if fifo_topic and not endpoint.endswith(".fifo"):
            raise invalid(
                "Invalid parameter: Endpoint Reason: FIFO SNS Topics currently only support FIFO SQS "
                "Queues as endpoints"
            )
    elif protocol == "lambda":
        if not _LAMBDA_ARN.match(endpoint):
            raise invalid("Lambda endpoint ARN")
    elif protocol == "sms":
        if not valid_number(endpoint):
            raise ServiceError("InvalidParameter", f"Invalid SMS endpoint: {endpoint}", 400)
        return normal(endpoint)
    elif protocol == "application":
        if not is_endpoint_arn(endpoint):
            raise invalid("ApplicationEndpoint ARN")
    elif not endpoint.lower().startswith(f"{protocol}://"):
        raise invalid("Endpoint must match the specified protocol")
    return endpoint


def _listed(subscription: Subscription) -> dict:
    return {
        "SubscriptionArn": "PendingConfirmation" if subscription.pending else subscription.arn,
        "Owner": subscription.owner,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "TopicArn": subscription.topic_arn,
    }


class SubscriptionsApi:
    state: SnsState
    deliverer: Deliverer

    async def subscribe(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        protocol = params["Protocol"]
        if protocol in AWS_ONLY:
            raise invalid(
                f"Lamina does not deliver to protocol {protocol}; use lambda, sqs, http, https, sms or application"
            )
        if protocol not in DELIVERED:
            raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
        if topic.fifo and protocol != "sqs":
            raise invalid(f"Invalid protocol type: {protocol}")
        endpoint = _check_endpoint(protocol, params.get("Endpoint"), topic.fifo)
        given = dict(params.get("Attributes") or {})
        wants_arn = params.get("ReturnSubscriptionArn", False)
        for existing in self.state.subscriptions_of(topic):
            if existing.protocol == protocol and existing.endpoint == endpoint:
                checked = attrs.check_subscription_attributes(given, existing)
                if any(
                    existing.attributes.get(k, "false" if k == "RawMessageDelivery" else "") != v
                    for k, v in checked.items()
                ):
                    raise invalid("Attributes Reason: Subscription already exists with different attributes")
                if existing.pending:  # subscribing again sends the confirmation again, as on AWS
                    self.deliverer.confirm_by_http(existing, ctx.endpoint_url)
                return {"SubscriptionArn": PENDING if existing.pending and not wants_arn else existing.arn}
        http = protocol in attrs.HTTP_PROTOCOLS
        subscription = Subscription(
            f"{topic.arn}:{uuid.uuid4()}",
            topic.arn,
            protocol,
            endpoint,
            ctx.account_id,
            {},
            pending=http,
            token=secrets.token_hex(64) if http else None,
            created_ms=now_ms(),
            # An AWS endpoint (a queue, a function) is confirmed by the signed Subscribe call
            # itself; an HTTP one when its owner follows the link (or calls ConfirmSubscription).
            authenticated=not http,
            principal=ctx.principal.arn if ctx.principal is not None else f"arn:aws:iam::{ctx.account_id}:root",
        )
        attrs.apply(subscription.attributes, attrs.check_subscription_attributes(given, subscription))
        await self.state.save_subscription(subscription)
        if http:
            self.deliverer.confirm_by_http(subscription, ctx.endpoint_url)
        return {"SubscriptionArn": PENDING if http and not wants_arn else subscription.arn}

    async def confirm_subscription(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        token = params["Token"]
        found = next((s for s in self.state.subscriptions_of(topic) if s.token and s.token == token), None)
        if found is None:
            raise invalid("Token")
        if found.pending:
            found.pending = False
            found.authenticated = str(params.get("AuthenticateOnUnsubscribe", "")).lower() == "true"
            await self.state.save_subscription(found)
        return {"SubscriptionArn": found.arn}

    async def unsubscribe(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["SubscriptionArn"]
        if not self.state.is_subscription_arn(arn):
            raise invalid("SubscriptionId")
        subscription = self.state.subscriptions.get(arn)
        if subscription is None:
            return {}  # unsubscribing twice is not an error
        await self.state.delete_subscription(subscription)
        if subscription.protocol in attrs.HTTP_PROTOCOLS and not subscription.pending:
            self.deliverer.confirm_by_http(subscription, ctx.endpoint_url, "UnsubscribeConfirmation")
        return {}

    async def list_subscriptions(self, params: dict, ctx: RequestContext) -> dict:
        prefix = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:"
        keys = sorted(arn for arn in self.state.subscriptions if arn.startswith(prefix))
        return self._page(keys, params.get("NextToken"))

    async def list_subscriptions_by_topic(self, params: dict, ctx: RequestContext) -> dict:
        topic = self.state.topic(params["TopicArn"], region=ctx.region)
        keys = sorted(s.arn for s in self.state.subscriptions_of(topic))
        return self._page(keys, params.get("NextToken"))

    def _page(self, keys: list[str], token: str | None) -> dict:
        chosen, next_token = page(keys, token)
        result: dict = {"Subscriptions": [_listed(self.state.subscriptions[arn]) for arn in chosen]}
        if next_token:
            result["NextToken"] = next_token
        return result

    async def get_subscription_attributes(self, params: dict, ctx: RequestContext) -> dict:
        subscription = self.state.subscription(params["SubscriptionArn"], region=ctx.region)
        topic = self.state.topics.get(subscription.topic_arn)
        return {"Attributes": attrs.subscription_attributes(subscription, topic)}

    async def set_subscription_attributes(self, params: dict, ctx: RequestContext) -> dict:
        subscription = self.state.subscription(params["SubscriptionArn"], region=ctx.region)
        name = params["AttributeName"]
        changes = attrs.check_subscription_attributes({name: params.get("AttributeValue") or ""}, subscription)
        attributes = dict(subscription.attributes)
        attrs.apply(attributes, changes)
        subscription.attributes = attributes
        await self.state.save_subscription(subscription)
        return {}
