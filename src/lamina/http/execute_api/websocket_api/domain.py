"""The domainName of a WebSocket API's events: what a function builds the management
API's endpoint from, as on AWS (`endpoint_url=f"https://{domain}/{stage}"`).

On AWS it is the API's host, {api}.execute-api.{region}.amazonaws.com. On Lamina a function
must reach it from its sandbox, where `*.execute-api.localhost` names do not resolve (only
browsers and some resolvers map them to the loopback address), so the domainName is the
path form on the address functions call AWS at (their AWS_ENDPOINT_URL):
`127.0.0.1:4566/_aws/execute-api/{api}`. Then `f"http://{domain}/{stage}"` is the endpoint.
Lamina speaks plain HTTP: a function picks the scheme of its AWS_ENDPOINT_URL when one is set
(`"http" if os.environ.get("AWS_ENDPOINT_URL", "").startswith("http:") else "https"`), which
keeps the same code right on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from ..addresses import PATH_PREFIX, Address


def path_form(endpoint_url: str) -> Callable[[str, Address], str]:
    netloc = urlsplit(endpoint_url).netloc

    def domain(api_id: str, where: Address) -> str:
        return f"{netloc}{PATH_PREFIX}{api_id}"

    return domain
