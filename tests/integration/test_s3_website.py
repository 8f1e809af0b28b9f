"""S3's static website hosting against a live server: Put/Get/DeleteBucketWebsite and S3's
refusals, and the website endpoint over real HTTP with the Host set
({bucket}.s3-website.localhost, and the forms with a region): index documents, the 302 to
"folder/", the error document, redirects (all requests, routing rules, an object's
x-amz-website-redirect-location), AWS's HTML error pages, and public read required."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest
from botocore.exceptions import ClientError

_names = itertools.count(1)


@pytest.fixture(scope="module")
def s3(lamina):
    return lamina.client("s3", s3={"addressing_style": "path"})


def _public(s3, bucket: str) -> None:
    s3.delete_public_access_block(Bucket=bucket)
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


@pytest.fixture
def site(s3):
    name = f"site-{next(_names)}-lamina"
    s3.create_bucket(Bucket=name)
    pages = {
        "index.html": b"<h1>home</h1>",
        "docs/index.html": b"<h1>docs</h1>",
        "docs/page.html": b"<p>page</p>",
        "error.html": b"<h1>lost</h1>",
    }
    for key, body in pages.items():
        s3.put_object(Bucket=name, Key=key, Body=body, ContentType="text/html", Metadata={"page": key})
    s3.put_object(Bucket=name, Key="old.html", Body=b"", WebsiteRedirectLocation="/docs/page.html")
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def _get(lamina, bucket: str, path: str, host: str = "s3-website.localhost", method: str = "GET") -> httpx.Response:
    return httpx.request(method, f"{lamina.url}{path}", headers={"Host": f"{bucket}.{host}:{lamina.port}"})


def _error(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "documents/"}, "Redirect": {"ReplaceKeyPrefixWith": "docs/"}},
        {
            "Condition": {"HttpErrorCodeReturnedEquals": "404", "KeyPrefixEquals": "gone/"},
            "Redirect": {"HostName": "archive.example.com", "Protocol": "https", "HttpRedirectCode": "307"},
        },
    ],
}


def test_put_get_delete(s3, site):
    assert _error(s3.get_bucket_website, Bucket=site) == {
        "Code": "NoSuchWebsiteConfiguration",
        "Message": "The specified bucket does not have a website configuration",
        "BucketName": site,
        "Status": 404,
    }
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration=WEBSITE)
    got = s3.get_bucket_website(Bucket=site)
    assert {k: got[k] for k in WEBSITE} == WEBSITE
    assert s3.delete_bucket_website(Bucket=site)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _error(s3.get_bucket_website, Bucket=site)["Code"] == "NoSuchWebsiteConfiguration"


@pytest.mark.parametrize(
    ("config", "code", "message"),
    [
        (
            {"ErrorDocument": {"Key": "e.html"}},
            "InvalidArgument",
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
        ),
        (
            {"IndexDocument": {"Suffix": "a/index.html"}},
            "InvalidArgument",
            "The IndexDocument Suffix is not well formed",
        ),
        (
            {"RedirectAllRequestsTo": {"HostName": "x.com"}, "IndexDocument": {"Suffix": "index.html"}},
            "InvalidArgument",
            "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
        ),
        (
            {
                "IndexDocument": {"Suffix": "index.html"},
                "RoutingRules": [{"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}],
            },  # fmt: skip
            "InvalidRequest",
            "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
        ),
        (
            {
                "IndexDocument": {"Suffix": "index.html"},
                "RoutingRules": [{"Redirect": {"HttpRedirectCode": "300"}}],
            },  # fmt: skip
            "InvalidRequest",
            "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300.",
        ),
    ],
)
def test_refused_configurations(s3, site, config, code, message):
    error = _error(s3.put_bucket_website, Bucket=site, WebsiteConfiguration=config)
    assert (error["Code"], error["Message"], error["Status"]) == (code, message, 400)


def test_index_error_document_and_redirects(lamina, s3, site):
    _public(s3, site)
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration=WEBSITE)
    home = _get(lamina, site, "/")
    assert (home.status_code, home.content) == (200, b"<h1>home</h1>")
    assert home.headers["content-type"] == "text/html"
    assert home.headers["x-amz-meta-page"] == "index.html"
    assert home.headers["etag"].startswith('"')
    assert _get(lamina, site, "/docs/").content == b"<h1>docs</h1>"
    assert _get(lamina, site, "/docs/page.html").content == b"<p>page</p>"
    folder = _get(lamina, site, "/docs")
    assert (folder.status_code, folder.headers["location"]) == (302, "/docs/")
    missing = _get(lamina, site, "/nothing.html")
    assert (missing.status_code, missing.content) == (404, b"<h1>lost</h1>")
    head = _get(lamina, site, "/", method="HEAD")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "13")
    # The object's own redirect, a routing rule's prefix replacement, an error's redirect.
    old = _get(lamina, site, "/old.html")
    assert (old.status_code, old.headers["location"]) == (301, "/docs/page.html")
    moved = _get(lamina, site, "/documents/page.html")
    assert (moved.status_code, moved.headers["location"]) == (
        301,
        f"http://{site}.s3-website.localhost:{lamina.port}/docs/page.html",
    )
    gone = _get(lamina, site, "/gone/x.html")
    assert (gone.status_code, gone.headers["location"]) == (307, "https://archive.example.com/gone/x.html")
    # The region's forms of the endpoint.
    assert _get(lamina, site, "/", host="s3-website-us-east-1.localhost").content == b"<h1>home</h1>"
    assert _get(lamina, site, "/", host="s3-website.eu-west-1.localhost").content == b"<h1>home</h1>"
    # Only GET and HEAD.
    assert _get(lamina, site, "/", method="DELETE").status_code == 405


def test_html_error_pages(lamina, s3, site):
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    # Not public: AWS's 403 page.
    refused = _get(lamina, site, "/")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>403 Forbidden</title>" in refused.text
    assert "<li>Code: AccessDenied</li>" in refused.text
    assert "<li>Message: Access Denied</li>" in refused.text
    _public(s3, site)
    missing = _get(lamina, site, "/missing.html")
    assert missing.status_code == 404
    assert "<h1>404 Not Found</h1>" in missing.text
    assert "<li>Code: NoSuchKey</li>" in missing.text
    assert "<li>Message: The specified key does not exist.</li>" in missing.text
    assert "<li>Key: missing.html</li>" in missing.text
    assert "<li>RequestId: " in missing.text
    # An error document that is not there: said under the error.
    s3.put_bucket_website(
        Bucket=site,
        WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "nope.html"}},
    )
    missing = _get(lamina, site, "/missing.html")
    assert missing.status_code == 404
    assert "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>" in missing.text
    assert "<li>Key: nope.html</li>" in missing.text
    s3.delete_bucket_website(Bucket=site)
    unset = _get(lamina, site, "/")
    assert unset.status_code == 404
    assert "<li>Code: NoSuchWebsiteConfiguration</li>" in unset.text
    assert f"<li>BucketName: {site}</li>" in unset.text
    nobucket = _get(lamina, f"no-such-{site}", "/")
    assert nobucket.status_code == 404 and "<li>Code: NoSuchBucket</li>" in nobucket.text


def test_redirect_all_requests(lamina, s3, site):
    _public(s3, site)
    s3.put_bucket_website(
        Bucket=site,
        WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}},
    )
    answer = _get(lamina, site, "/a/b.html")
    assert (answer.status_code, answer.headers["location"]) == (301, "https://www.example.com/a/b.html")


def test_through_front_processes(lamina_factory):
    """With LAMINA_HTTP_WORKERS the website, the preflight and the finisher's CORS headers
    are answered by the core through the fronts."""
    server = lamina_factory(LAMINA_HTTP_WORKERS="2")
    s3 = server.client("s3", s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="fronted")
    s3.put_object(Bucket="fronted", Key="index.html", Body=b"<h1>home</h1>", ContentType="text/html")
    _public(s3, "fronted")
    s3.put_bucket_website(Bucket="fronted", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_cors(
        Bucket="fronted", CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}
    )
    for _ in range(4):  # every front
        page = _get(server, "fronted", "/")
        assert (page.status_code, page.content) == (200, b"<h1>home</h1>")
        preflight = httpx.options(
            f"{server.url}/fronted/index.html",
            headers={"Origin": "http://a.org", "Access-Control-Request-Method": "GET"},
        )
        assert (preflight.status_code, preflight.headers["access-control-allow-origin"]) == (200, "*")
        anonymous = httpx.get(f"{server.url}/fronted/index.html", headers={"Origin": "http://a.org"})
        assert anonymous.status_code == 200 and anonymous.headers["access-control-allow-origin"] == "*"
