"""Static website hosting (User Guide, "Hosting a static website using Amazon S3"):
Put/Get/DeleteBucketWebsite with S3's checks, and what the website endpoint answers for one
unsigned GET or HEAD (`website_answer`), which http/s3_website.py turns into HTTP.

What the endpoint does, as AWS's does:
- the bucket must be readable by everyone: its policy allows s3:GetObject to "*" (and Block
  Public Access's RestrictPublicBuckets does not hold it back); else 403 AccessDenied;
- RedirectAllRequestsTo: every request 301 to that host (and protocol), path kept;
- routing rules: a KeyPrefixEquals condition redirects before the key is looked up, an
  HttpErrorCodeReturnedEquals one when that error happens (ReplaceKeyWith,
  ReplaceKeyPrefixWith, HostName, Protocol, HttpRedirectCode: 301 unless given);
- "/" and "folder/" serve the IndexDocument under them; "folder" with no such key but a
  "folder/" index is a 302 to "folder/";
- an object with x-amz-website-redirect-location is a 301 there;
- a missing key is 404 NoSuchKey, answered with the ErrorDocument (status 404) when there is
  one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import ServiceError
from ...policy import RESOURCE, MalformedPolicy, PolicySet, RequestContext, evaluate, parse_policy
from ..context import RequestContext as CallContext
from .configs import POLICY, WEBSITE, BucketConfigs
from .errors import invalid_argument, invalid_request, malformed_xml, not_found_config
from .state import Bucket, S3State, Version
from .storage import FileReader, Files

_PARSED: dict[str, Any] = {}


@dataclass
class WebsiteAnswer:
    """One answer of the website endpoint. An error has `code` and `message` (and `details`:
    Key, BucketName) for the HTML page; a redirect a `location`; a page its `version` and
    `body` (a reader; None for HEAD)."""

    status: int
    code: str = ""
    message: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)
    location: str = ""
    version: Version | None = None
    body: Any = None
    error_document: tuple[str, str, str] | None = None  # the error document's own failure: code, message, key


def _checked(config: dict) -> dict:
    redirect_all = config.get("RedirectAllRequestsTo")
    if not config:
        raise malformed_xml()
    if redirect_all is not None:
        if any(config.get(name) for name in ("IndexDocument", "ErrorDocument", "RoutingRules")):
            raise invalid_argument("RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.")
        _check_protocol(redirect_all.get("Protocol"))
        if not redirect_all.get("HostName"):
            raise malformed_xml()
        return config
    suffix = (config.get("IndexDocument") or {}).get("Suffix")
    if suffix is None:
        raise invalid_argument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty")
    if not suffix or "/" in suffix:
        raise invalid_argument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
    for rule in config.get("RoutingRules") or []:
        redirect = rule.get("Redirect") or {}
        if "ReplaceKeyPrefixWith" in redirect and "ReplaceKeyWith" in redirect:
            raise invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
        _check_protocol(redirect.get("Protocol"))
        code = redirect.get("HttpRedirectCode")
        if code is not None and not (code.isdigit() and code.startswith("3") and len(code) == 3 and code != "300"):
            raise invalid_request(
                f"The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300."
            )
        error = (rule.get("Condition") or {}).get("HttpErrorCodeReturnedEquals")
        if error is not None and not (error.isdigit() and len(error) == 3 and error[0] in "45"):
            raise invalid_request(f"The provided HTTP error code ({error}) is not valid. Valid codes are 4XX or 5XX.")
    return config


def _check_protocol(protocol: str | None) -> None:
    if protocol is not None and protocol not in ("http", "https"):
        raise invalid_request(
            "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected "
            "automatically."
        )


def readable_by_anyone(policy_text: str, bucket: Bucket, key: str) -> bool:
    """Whether a bucket policy lets an anonymous caller s3:GetObject `key`."""
    if not policy_text:
        return False
    policy = _PARSED.get(policy_text)
    if policy is None:
        try:
            policy = parse_policy(policy_text, kind=RESOURCE)
        except MalformedPolicy:
            return False
        if len(_PARSED) > 256:
            _PARSED.clear()
        _PARSED[policy_text] = policy
    request = RequestContext(
        principal_arn="*",
        principal_type="Anonymous",
        action="s3:GetObject",
        resource=f"arn:aws:s3:::{bucket.name}/{key}",
        resource_account=bucket.account,
    )
    return evaluate(request, PolicySet(resource=policy)).allowed


class WebsiteApi:
    state: S3State
    configs: BucketConfigs
    files: Files
    restricts_public: Callable[[str], bool]  # policies.py

    async def put_bucket_website(self, params: dict, ctx: CallContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        config = _checked(params.get("WebsiteConfiguration") or {})
        await self.configs.put(bucket, WEBSITE, config)
        return {}

    async def get_bucket_website(self, params: dict, ctx: CallContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        config = self.configs.get(bucket, WEBSITE)
        if config is None:
            raise _no_website(bucket.name)
        return dict(config)

    async def delete_bucket_website(self, params: dict, ctx: CallContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        await self.configs.delete(bucket, WEBSITE)
        return {}

    # --- the website endpoint ---------------------------------------------------------

    def website_answer(self, name: str, path: str, head: bool) -> WebsiteAnswer:
        """The answer to a GET (or HEAD) of `path` (decoded, from "/") on bucket `name`'s
        website endpoint."""
        bucket = self.state.bucket(name)
        if bucket is None:
            return _error(404, "NoSuchBucket", "The specified bucket does not exist", [("BucketName", name)])
        config = self.configs.get(bucket, WEBSITE)
        if config is None:
            return _error(
                404,
                "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration",
                [("BucketName", name)],
            )
        redirect_all = config.get("RedirectAllRequestsTo")
        if redirect_all is not None:
            protocol = redirect_all.get("Protocol") or "http"
            return WebsiteAnswer(301, location=f"{protocol}://{redirect_all['HostName']}{path}")
        key = path[1:]
        rules = config.get("RoutingRules") or []
        for rule in rules:
            condition = rule.get("Condition") or {}
            if condition.get("HttpErrorCodeReturnedEquals") is None and key.startswith(
                condition.get("KeyPrefixEquals", "")
            ):
                return _redirect(rule, key)
        suffix = config["IndexDocument"]["Suffix"]
        wanted = key + suffix if key == "" or key.endswith("/") else key
        answer = self._page(bucket, wanted, head)
        if answer.status == 404 and not key.endswith("/") and key:
            index = bucket.latest(f"{key}/{suffix}")
            if index is not None and not index.delete_marker:
                return WebsiteAnswer(302, location=f"/{key}/")
        if answer.status >= 400:
            for rule in rules:
                condition = rule.get("Condition") or {}
                if condition.get("HttpErrorCodeReturnedEquals") == str(answer.status) and key.startswith(
                    condition.get("KeyPrefixEquals", "")
                ):
                    return _redirect(rule, key)
            error_key = (config.get("ErrorDocument") or {}).get("Key")
            if error_key and answer.status in (403, 404):
                document = self._page(bucket, error_key, head)
                if document.status == 200 and document.location == "":
                    document.status = answer.status
                    return document
                answer.error_document = (document.code, document.message, error_key)
        return answer

    def _page(self, bucket: Bucket, key: str, head: bool) -> WebsiteAnswer:
        if not readable_by_anyone(self.configs.get(bucket, POLICY) or "", bucket, key) or self.restricts_public(
            bucket.name
        ):
            return _error(403, "AccessDenied", "Access Denied")
        version = bucket.latest(key)
        if version is None or version.delete_marker:
            return _error(404, "NoSuchKey", "The specified key does not exist.", [("Key", key)])
        target = version.content.get("WebsiteRedirectLocation")
        if target:
            return WebsiteAnswer(301, location=target)
        body = None if head else FileReader(self.files.open(bucket.name, version.uid), 0, version.size)
        return WebsiteAnswer(200, version=version, body=body)


def _error(status: int, code: str, message: str, details: list[tuple[str, str]] | None = None) -> WebsiteAnswer:
    return WebsiteAnswer(status, code=code, message=message, details=details or [])


def _redirect(rule: dict, key: str) -> WebsiteAnswer:
    redirect = rule.get("Redirect") or {}
    prefix = (rule.get("Condition") or {}).get("KeyPrefixEquals", "")
    if "ReplaceKeyWith" in redirect:
        key = redirect["ReplaceKeyWith"]
    elif "ReplaceKeyPrefixWith" in redirect:
        key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix) :]
    status = int(redirect.get("HttpRedirectCode") or 301)
    if redirect.get("HostName"):
        protocol = redirect.get("Protocol") or "http"
        return WebsiteAnswer(status, location=f"{protocol}://{redirect['HostName']}/{key}")
    if redirect.get("Protocol"):
        return WebsiteAnswer(status, location=f"{redirect['Protocol']}://{{host}}/{key}")
    return WebsiteAnswer(status, location=f"{{scheme}}://{{host}}/{key}")


def _no_website(bucket: str) -> ServiceError:
    return not_found_config(
        "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration", bucket
    )
