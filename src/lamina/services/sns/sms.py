"""Text messages (SMS): the account's SMS settings, the SMS sandbox, and opt-outs, per account
and region, as AWS keeps them. No phone is ever texted: a text message is delivered into the
delivery status log group (status_logs.py), the text included.

    kind "sns_sms"  key <account>:<region>  {"attributes": SetSMSAttributes' values,
                                             "sandbox": {number: {"status", "otp", "created"}},
                                             "opted_out": {number: when}, "opted_in": {number: when}}

The sandbox: every account is in it (GetSMSSandboxAccountStatus answers IsInSandbox true;
leaving it takes a support case on AWS, which Lamina has no equivalent of). In the sandbox a
text reaches only verified numbers: CreateSMSSandboxPhoneNumber "sends" a one-time password
(it is written to sns/<region>/<account>/DirectPublishToPhoneNumber, where the user reads it)
and VerifySMSSandboxPhoneNumber checks it. A text to any other number is accepted by Publish
and fails as on AWS: a FAILURE record ("Sandboxed account unable to send to number").

Opting out: on AWS a recipient replies STOP. Lamina's equivalent is the recipient's reply
as a link: GET /_lamina/sns/reply?PhoneNumber=<E.164>&Message=STOP (unsigned, like the
SubscribeURL; it opts the number out for the server's default account and region). A text to
an opted-out number fails with "Phone number is opted out"; OptInPhoneNumber opts it back in.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from ...errors import ServiceError
from ...store.base import Put, Store
from ..context import RequestContext
from .state import invalid, now_ms
from .topics import page

KIND = "sns_sms"
E164 = re.compile(r"^\+?[1-9]\d{6,14}$")  # E.164: up to 15 digits, the country code first
SMS_ATTRIBUTES = (
    "MonthlySpendLimit",
    "DeliveryStatusIAMRole",
    "DeliveryStatusSuccessSamplingRate",
    "DefaultSenderID",
    "DefaultSMSType",
    "UsageReportS3Bucket",
)
SMS_TYPES = ("Promotional", "Transactional")
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "OPTOUT"}
SANDBOX_LIMIT = 10  # verified and pending destination numbers, as AWS's default quota


def valid_number(number: str | None) -> bool:
    return bool(number) and bool(E164.match(number or ""))


def normal(number: str) -> str:
    return number if number.startswith("+") else f"+{number}"


class SmsAccount:
    def __init__(self, key: str, doc: dict[str, Any] | None = None) -> None:
        doc = doc or {}
        self.key = key
        self.attributes: dict[str, str] = doc.get("attributes") or {}
        self.sandbox: dict[str, dict[str, Any]] = doc.get("sandbox") or {}
        self.opted_out: dict[str, int] = doc.get("opted_out") or {}
        self.opted_in: dict[str, int] = doc.get("opted_in") or {}

    def doc(self) -> dict[str, Any]:
        return {
            "attributes": self.attributes,
            "sandbox": self.sandbox,
            "opted_out": self.opted_out,
            "opted_in": self.opted_in,
        }

    def verified(self, number: str) -> bool:
        return (self.sandbox.get(number) or {}).get("status") == "Verified"

    @property
    def sms_type(self) -> str:
        return self.attributes.get("DefaultSMSType") or "Promotional"


class SmsState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.accounts: dict[str, SmsAccount] = {}

    async def load(self) -> None:
        for key, doc in await self.store.scan(KIND):
            self.accounts[key] = SmsAccount(key, doc)

    def reset(self) -> None:
        self.accounts.clear()

    def of(self, account: str, region: str) -> SmsAccount:
        key = f"{account}:{region}"
        found = self.accounts.get(key)
        return found if found is not None else SmsAccount(key)

    async def save(self, account: SmsAccount) -> None:
        await self.store.write([Put(KIND, account.key, account.doc())])
        self.accounts[account.key] = account


def _check_sms_attributes(given: dict[str, str]) -> dict[str, str]:
    for name, value in given.items():
        if name not in SMS_ATTRIBUTES:
            raise invalid(f"{name} is not a valid attribute")
        if name == "DefaultSMSType" and value not in SMS_TYPES:
            raise invalid("DefaultSMSType Reason: must be Promotional or Transactional")
        if name == "DefaultSenderID" and value and not _SENDER_ID.match(value):
            raise invalid("DefaultSenderID Reason: must be 1 to 11 letters, digits or hyphens, with a letter")
        if name == "MonthlySpendLimit" and not value.isdigit():
            raise invalid("MonthlySpendLimit Reason: must be a whole number of USD")
        if name == "DeliveryStatusSuccessSamplingRate" and (not value.isdigit() or int(value) > 100):
            raise invalid("DeliveryStatusSuccessSamplingRate Reason: must be an integer from 0 to 100")
    return dict(given)


def _phone_parameter(number: str | None) -> str:
    if not valid_number(number):
        raise invalid("PhoneNumber Reason: input incorrectly formatted")
    return normal(number or "")


class SmsApi:
    sms: SmsState

    async def send_otp(self, number: str, otp: str, ctx: RequestContext) -> None:
        """Deliver the one-time password (mobile.py: into the delivery status log)."""
        raise NotImplementedError

    # --- settings ---------------------------------------------------------------------------

    async def get_sms_attributes(self, params: dict, ctx: RequestContext) -> dict:
        account = self.sms.of(ctx.account_id, ctx.region)
        current = {"MonthlySpendLimit": "1", **account.attributes}
        wanted = params.get("attributes") or []
        return {"attributes": {k: v for k, v in current.items() if not wanted or k in wanted}}

    async def set_sms_attributes(self, params: dict, ctx: RequestContext) -> dict:
        given = _check_sms_attributes(dict(params.get("attributes") or {}))
        account = self.sms.of(ctx.account_id, ctx.region)
        account.attributes = {**account.attributes, **given}
        await self.sms.save(account)
        return {}

    # --- the sandbox ------------------------------------------------------------------------

    async def get_sms_sandbox_account_status(self, params: dict, ctx: RequestContext) -> dict:
        return {"IsInSandbox": True}

    async def create_sms_sandbox_phone_number(self, params: dict, ctx: RequestContext) -> dict:
        number = params["PhoneNumber"]
        if not valid_number(number) or not number.startswith("+"):
            raise invalid("PhoneNumber Reason: input incorrectly formatted")
        account = self.sms.of(ctx.account_id, ctx.region)
        if number in account.opted_out:
            raise ServiceError("OptedOut", "Phone number is opted out", 400)
        entry = account.sandbox.get(number)
        if entry is not None and entry.get("status") == "Verified":
            raise ServiceError("UserError", f"Phone number {number} is already verified", 400)
        if entry is None and len(account.sandbox) >= SANDBOX_LIMIT:
            raise ServiceError(
                "UserError", f"You can't add more than {SANDBOX_LIMIT} destination phone numbers in the sandbox", 400
            )
        otp = f"{secrets.randbelow(10**6):06d}"
        account.sandbox[number] = {
            "status": "Pending",
            "otp": otp,
            "created": entry.get("created", now_ms()) if entry else now_ms(),
            "language": params.get("LanguageCode") or "en-US",
        }
        await self.sms.save(account)
        await self.send_otp(number, otp, ctx)
        return {}

    async def verify_sms_sandbox_phone_number(self, params: dict, ctx: RequestContext) -> dict:
        number = params["PhoneNumber"]
        account = self.sms.of(ctx.account_id, ctx.region)
        entry = account.sandbox.get(number)
        if entry is None:
            raise ServiceError("ResourceNotFound", f"Phone number {number} is not in the SMS sandbox", 404)
        if entry.get("status") == "Verified":
            return {}
        if not secrets.compare_digest(str(entry.get("otp")), params["OneTimePassword"]):
            raise ServiceError(
                "VerificationException",
                "Invalid one-time password",
                400,
                Message="Invalid one-time password",
                Status="Pending",
            )
        account.sandbox[number] = {**entry, "status": "Verified", "otp": None}
        await self.sms.save(account)
        return {}

    async def list_sms_sandbox_phone_numbers(self, params: dict, ctx: RequestContext) -> dict:
        account = self.sms.of(ctx.account_id, ctx.region)
        numbers = sorted(account.sandbox)
        size = int(params.get("MaxResults") or 100)
        start = 0
        if params.get("NextToken"):
            token = params["NextToken"]
            start = next((i for i, n in enumerate(numbers) if n > token), len(numbers))
        chosen = numbers[start : start + size]
        result: dict = {"PhoneNumbers": [{"PhoneNumber": n, "Status": account.sandbox[n]["status"]} for n in chosen]}
        if start + size < len(numbers):
            result["NextToken"] = chosen[-1]
        return result

    async def delete_sms_sandbox_phone_number(self, params: dict, ctx: RequestContext) -> dict:
        number = params["PhoneNumber"]
        account = self.sms.of(ctx.account_id, ctx.region)
        if number not in account.sandbox:
            raise ServiceError("ResourceNotFound", f"Phone number {number} is not in the SMS sandbox", 404)
        del account.sandbox[number]
        await self.sms.save(account)
        return {}

    # --- opt-outs ---------------------------------------------------------------------------

    async def check_if_phone_number_is_opted_out(self, params: dict, ctx: RequestContext) -> dict:
        number = _phone_parameter(params.get("phoneNumber"))
        return {"isOptedOut": number in self.sms.of(ctx.account_id, ctx.region).opted_out}

    async def list_phone_numbers_opted_out(self, params: dict, ctx: RequestContext) -> dict:
        account = self.sms.of(ctx.account_id, ctx.region)
        chosen, next_token = page(sorted(account.opted_out), params.get("nextToken"))
        result: dict = {"phoneNumbers": chosen}
        if next_token:
            result["nextToken"] = next_token
        return result

    async def opt_in_phone_number(self, params: dict, ctx: RequestContext) -> dict:
        number = _phone_parameter(params.get("phoneNumber"))
        account = self.sms.of(ctx.account_id, ctx.region)
        if number in account.opted_out:
            del account.opted_out[number]
            account.opted_in[number] = now_ms()
            await self.sms.save(account)
        return {}

    async def reply(self, number: str, text: str, ctx: RequestContext) -> bool:
        """A recipient's reply (Lamina's stand-in for a text back to the sender): STOP and
        its synonyms opt the number out of the account's texts. True if it did."""
        if not valid_number(number):
            raise invalid("PhoneNumber Reason: input incorrectly formatted")
        if text.strip().upper() not in STOP_WORDS:
            return False
        account = self.sms.of(ctx.account_id, ctx.region)
        account.opted_out[normal(number)] = now_ms()
        await self.sms.save(account)
        return True
