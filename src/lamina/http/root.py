"""GET / from a browser (or curl): a small page saying what this server is, what it serves
and where to look. No script, no external asset.

Which requests for / are a browser's and which are AWS calls is the gateway's to tell
(gateway.wants_page); the page is mounted with Gateway.mount_page."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from ..protocol.messages import Request, Response

Handler = Callable[[Request], Awaitable[Response]]


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lamina {version}</title>
<style>body{{font-family:sans-serif;max-width:48em;margin:2em auto;padding:0 1em;line-height:1.4}}
pre{{background:#f4f4f4;padding:.6em;overflow-x:auto}}code{{background:#f4f4f4}}</style></head>
<body>
<h1>Lamina {version}</h1>
<p>AWS Lambda and the event-driven services around it, on your own machine. This server
speaks the AWS APIs at <code>{endpoint}</code>: point boto3, the AWS CLI or any SDK at it
(any key pair <code>test</code>/<code>test</code>).</p>
<h2>Services</h2>
<ul>
{services}
</ul>
<h2>Where to look</h2>
<ul>
<li><a href="/_lamina/health">/_lamina/health</a>: up, and what it holds (JSON)</li>
<li><a href="/_localstack/health">/_localstack/health</a>: the same in LocalStack's shape</li>
<li><a href="/metrics">/metrics</a>: metrics in Prometheus text</li>
<li>The docs: <code>README.md</code> and <code>docs/manual.md</code> in Lamina's source</li>
</ul>
<h2>Try it</h2>
<pre>lamina ls --endpoint {endpoint}
lamina invoke --endpoint {endpoint} hello '{{"name": "you"}}'
lamina logs --endpoint {endpoint} hello

AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={region} \\
aws --endpoint-url {endpoint} lambda list-functions</pre>
<pre>import boto3
client = boto3.client("lambda", endpoint_url="{endpoint}", region_name="{region}",
                      aws_access_key_id="test", aws_secret_access_key="test")
print(client.list_functions()["Functions"])</pre>
</body></html>
"""


def page_handler(version: str, services: list[tuple[str, str]], endpoint_url: str, region: str) -> Handler:
    """`services`: (botocore name, full name) of each service served."""
    items = "\n".join(f"<li>{html.escape(full)} (<code>{html.escape(name)}</code>)</li>" for name, full in services)

    async def page(request: Request) -> Response:
        host = request.headers.get("host")
        endpoint = f"http://{host}" if host else endpoint_url
        body = _PAGE.format(
            version=html.escape(version),
            endpoint=html.escape(endpoint),
            services=items,
            region=html.escape(region),
        ).encode()
        headers = [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")]
        return Response(200, headers, b"" if request.method == "HEAD" else body)

    return page
