"""OpenID Connect identity providers: CreateOpenIDConnectProvider, GetOpenIDConnectProvider,
ListOpenIDConnectProviders, DeleteOpenIDConnectProvider, AddClientIDToOpenIDConnectProvider,
RemoveClientIDFromOpenIDConnectProvider, UpdateOpenIDConnectProviderThumbprint,
TagOpenIDConnectProvider, UntagOpenIDConnectProvider, ListOpenIDConnectProviderTags.

A provider is named by its URL without the scheme (`token.actions.githubusercontent.com`,
`oidc.eks.us-east-1.amazonaws.com/id/ABC`): its ARN is
`arn:aws:iam::<account>:oidc-provider/<that>`, one per URL and account. STS's
AssumeRoleWithWebIdentity accepts the tokens whose `iss` is a provider's URL and whose
audience is one of its client ids.

As on AWS the URL must be https. The one exception: an http URL whose host is a loopback
address (127.0.0.1, ::1, localhost), with a port if it likes, so that an identity provider
running beside Lamina (development, tests) can be registered. Thumbprints are kept and
answered but not used: Lamina checks an issuer's TLS certificate the usual way (the
system's trust store), as AWS now does for most providers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ...errors import ServiceError
from ...identity.web_identity import is_loopback
from ..context import RequestContext
from .common import list_tags, merged_tags, tags_out, untagged
from .state import IamState, OidcProvider, already_exists, invalid_input, limit_exceeded, no_such_entity, now

MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
_ARN_PREFIX = "oidc-provider/"


def provider_name(url: str) -> str:
    """A provider URL checked as AWS checks it, and its name: the URL without its scheme."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise invalid_input("Invalid Open ID Connect Provider URL.") from None
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc or not parts.hostname:
        raise ServiceError("ValidationError", "Invalid Open ID Connect Provider URL", 400)
    local = scheme == "http" and is_loopback(url)
    if scheme != "https" and not local:
        raise invalid_input("Invalid Open ID Connect Provider URL. The URL must begin with https://.")
    if parts.query or parts.fragment or "?" in url or "#" in url or "@" in parts.netloc or (port and not local):
        raise invalid_input("Invalid Open ID Connect Provider URL.")
    return url[len(parts.scheme) + 3 :]


def _client_ids(given: list[str] | None) -> list[str]:
    ids = list(dict.fromkeys(given or ()))
    if len(ids) > MAX_CLIENT_IDS:
        raise limit_exceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    return ids


def _thumbprints(given: list[str] | None) -> list[str]:
    prints = [p.lower() for p in given or ()]
    if len(prints) > MAX_THUMBPRINTS:
        raise invalid_input("Thumbprint list must contain fewer than 5 entries.")
    return list(dict.fromkeys(prints))


class OidcApi:
    state: IamState

    def _provider(self, account: str, arn: str, missing: str | None = None) -> OidcProvider:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith(_ARN_PREFIX):
            raise invalid_input(f"ARN {arn} is not valid.")
        found = None
        if parts[4] == account:
            found = self.state.account(account).oidc_providers.get(parts[5][len(_ARN_PREFIX) :].lower())
        if found is None:
            raise no_such_entity(missing or f"OpenIDConnect Provider not found for arn {arn}")
        return found

    async def create_open_id_connect_provider(self, params: dict, ctx: RequestContext) -> dict:
        url = params["Url"]
        name = provider_name(url)
        tables = self.state.account(ctx.account_id)
        if name.lower() in tables.oidc_providers:
            raise already_exists(f"Provider with url {url} already exists.")
        provider = OidcProvider(
            ctx.account_id,
            name,
            now(),
            _client_ids(params.get("ClientIDList")),
            _thumbprints(params.get("ThumbprintList")),
            merged_tags({}, params.get("Tags")),
        )
        await self.state.save(provider)
        answer: dict = {"OpenIDConnectProviderArn": provider.arn}
        if provider.tags:
            answer["Tags"] = tags_out(provider.tags)
        return answer

    async def get_open_id_connect_provider(self, params: dict, ctx: RequestContext) -> dict:
        provider = self._provider(ctx.account_id, params["OpenIDConnectProviderArn"])
        answer: dict = {
            "Url": provider.name,
            "ClientIDList": list(provider.client_ids),
            "ThumbprintList": list(provider.thumbprints),
            "CreateDate": provider.created,
        }
        if provider.tags:
            answer["Tags"] = tags_out(provider.tags)
        return answer

    async def list_open_id_connect_providers(self, params: dict, ctx: RequestContext) -> dict:
        providers = sorted(self.state.account(ctx.account_id).oidc_providers.values(), key=lambda p: p.arn)
        return {"OpenIDConnectProviderList": [{"Arn": provider.arn} for provider in providers]}

    async def delete_open_id_connect_provider(self, params: dict, ctx: RequestContext) -> dict:
        arn = params["OpenIDConnectProviderArn"]
        provider = self._provider(ctx.account_id, arn, missing=f"OpenId connect Provider {arn} cannot be found.")
        await self.state.delete(provider)
        return {}

    async def add_client_id_to_open_id_connect_provider(self, params: dict, ctx: RequestContext) -> dict:
        provider = self._provider(ctx.account_id, params["OpenIDConnectProviderArn"])
        if params["ClientID"] not in provider.client_ids:
            provider.client_ids = _client_ids([*provider.client_ids, params["ClientID"]])
            await self.state.save(provider)
        return {}

    async def remove_client_id_from_open_id_connect_provider(self, params: dict, ctx: RequestContext) -> dict:
        provider = self._provider(ctx.account_id, params["OpenIDConnectProviderArn"])
        if params["ClientID"] in provider.client_ids:
            provider.client_ids = [c for c in provider.client_ids if c != params["ClientID"]]
            await self.state.save(provider)
        return {}

    async def update_open_id_connect_provider_thumbprint(self, params: dict, ctx: RequestContext) -> dict:
        provider = self._provider(ctx.account_id, params["OpenIDConnectProviderArn"])
        provider.thumbprints = _thumbprints(params.get("ThumbprintList"))
        await self.state.save(provider)
        return {}

    async def tag_open_id_connect_provider(self, params: dict, ctx: RequestContext) -> dict:
        provider = self._provider(ctx.account_id, params["OpenIDConnectProviderArn"])
        provider.tags = merged_tags(provider.tags, params.get("Tags"))
        await self.state.save(provider)
        return {}

    async def untag_open_id_connect_provider(self, params: dict, ctx: RequestContext) -> dict:
        provider = self._provider(ctx.account_id, params["OpenIDConnectProviderArn"])
        provider.tags = untagged(provider.tags, params.get("TagKeys"))
        await self.state.save(provider)
        return {}

    async def list_open_id_connect_provider_tags(self, params: dict, ctx: RequestContext) -> dict:
        provider = self._provider(ctx.account_id, params["OpenIDConnectProviderArn"])
        return list_tags(provider.tags, params)
