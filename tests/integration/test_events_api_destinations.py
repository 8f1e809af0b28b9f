"""EventBridge connections and API destinations against a live server, calling an HTTP server
in the test: BASIC, API_KEY and OAuth client-credentials authorization (the token fetched
once and reused), path, query and header parameters from the target and the connection,
secrets never shown, deauthorizing, retries and the DLQ on 500s, no retry on a 400, and the
rate limit seen as a spread of the calls.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from tests.conftest import EVENTS, ROLE, queue_policy_for

from .test_sns import make_queue, receive

REGION = "us-east-1"
ACCOUNT = "000000000000"


class Server:
    """Records every request; /token answers an OAuth token, /status/<n> answers n, others 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                record = {
                    "method": self.command,
                    "path": parsed.path,
                    "query": dict(urllib.parse.parse_qsl(parsed.query)),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode(),
                    "at": time.monotonic(),
                }
                with outer.lock:
                    outer.requests.append(record)
                status, answer = 200, b"{}"
                if parsed.path == "/token":
                    answer = json.dumps(
                        {"access_token": "tok-123", "token_type": "Bearer", "expires_in": 3600}
                    ).encode()
                elif parsed.path.startswith("/status/"):
                    status = int(parsed.path.split("/")[2])
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_POST = do_GET = do_PUT = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def at(self, path_prefix: str, count: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                got = [r for r in self.requests if r["path"].startswith(path_prefix)]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


@pytest.fixture
def server():
    started = Server()
    yield started
    started.httpd.shutdown()


@pytest.fixture
def events(lamina):
    return lamina.client("events")


def wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def destination(events, name: str, auth_type: str, auth: dict, endpoint: str, **more) -> str:
    connection = events.create_connection(Name=name, AuthorizationType=auth_type, AuthParameters=auth)
    return events.create_api_destination(
        Name=name,
        ConnectionArn=connection["ConnectionArn"],
        InvocationEndpoint=endpoint,
        HttpMethod=more.pop("HttpMethod", "POST"),
        **more,
    )["ApiDestinationArn"]


def rule_to(events, name: str, target: dict) -> str:
    arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))["RuleArn"]
    result = events.put_targets(Rule=name, Targets=[{"Id": "api", "RoleArn": ROLE, **target}])
    assert result["FailedEntryCount"] == 0, result
    return arn


def put(events, source: str, count: int = 1) -> list[str]:
    result = events.put_events(
        Entries=[{"Source": source, "DetailType": "Test", "Detail": json.dumps({"n": i})} for i in range(count)]
    )
    assert result["FailedEntryCount"] == 0
    return [entry["EventId"] for entry in result["Entries"]]


def test_basic_auth_with_path_query_and_header_parameters(events, server, unique_name):
    auth = {
        "BasicAuthParameters": {"Username": "user", "Password": "pass"},
        "InvocationHttpParameters": {
            "HeaderParameters": [{"Key": "X-From-Connection", "Value": "c", "IsValueSecret": False}],
            "QueryStringParameters": [{"Key": "token", "Value": "hidden", "IsValueSecret": True}],
        },
    }
    arn = destination(events, unique_name, "BASIC", auth, f"{server.url}/orders/*/items/*")
    assert arn.startswith(f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/{unique_name}/")
    rule_to(
        events,
        unique_name,
        {
            "Arn": arn,
            "HttpParameters": {
                "PathParameterValues": ["o-1", "i 2"],
                "QueryStringParameters": {"q": "1"},
                "HeaderParameters": {"X-Custom": "v"},
            },
        },
    )
    [event_id] = put(events, unique_name)
    [request] = server.at("/orders/", 1)
    assert request["method"] == "POST"
    assert request["path"] == "/orders/o-1/items/i%202"
    assert request["query"] == {"token": "hidden", "q": "1"}
    headers = request["headers"]
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:pass").decode()
    assert headers["x-custom"] == "v" and headers["x-from-connection"] == "c"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    assert json.loads(request["body"])["id"] == event_id

    described = events.describe_connection(Name=unique_name)
    assert described["ConnectionState"] == "AUTHORIZED" and described["AuthorizationType"] == "BASIC"
    assert described["AuthParameters"]["BasicAuthParameters"] == {"Username": "user"}  # no password
    assert described["AuthParameters"]["InvocationHttpParameters"]["QueryStringParameters"] == [
        {"Key": "token", "IsValueSecret": True}
    ]
    assert described["SecretArn"].startswith(
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:events!connection/{unique_name}/"
    )
    shown = events.describe_api_destination(Name=unique_name)
    assert shown["InvocationEndpoint"] == f"{server.url}/orders/*/items/*"
    assert shown["HttpMethod"] == "POST" and shown["ApiDestinationState"] == "ACTIVE"
    assert shown["InvocationRateLimitPerSecond"] == 300


def test_api_key_auth_and_input(events, server, unique_name):
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "X-Api-Key", "ApiKeyValue": "secret-key"}}
    arn = destination(events, unique_name, "API_KEY", auth, f"{server.url}/hook", HttpMethod="PUT")
    rule_to(events, unique_name, {"Arn": arn, "Input": '{"fixed": true}'})
    put(events, unique_name)
    [request] = server.at("/hook", 1)
    assert request["method"] == "PUT" and request["headers"]["x-api-key"] == "secret-key"
    assert json.loads(request["body"]) == {"fixed": True}
    assert events.describe_connection(Name=unique_name)["AuthParameters"]["ApiKeyAuthParameters"] == {
        "ApiKeyName": "X-Api-Key"
    }


def test_oauth_client_credentials_token_fetched_once(events, server, unique_name):
    auth = {
        "OAuthParameters": {
            "ClientParameters": {"ClientID": "client", "ClientSecret": "shh"},
            "AuthorizationEndpoint": f"{server.url}/token",
            "HttpMethod": "POST",
            "OAuthHttpParameters": {"BodyParameters": [{"Key": "grant_type", "Value": "client_credentials"}]},
        }
    }
    created = events.create_connection(
        Name=unique_name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=auth
    )
    assert created["ConnectionState"] == "AUTHORIZING"
    assert wait_for(lambda: events.describe_connection(Name=unique_name)["ConnectionState"] == "AUTHORIZED")
    arn = events.create_api_destination(
        Name=unique_name,
        ConnectionArn=created["ConnectionArn"],
        InvocationEndpoint=f"{server.url}/oauth-hook",
        HttpMethod="POST",
    )["ApiDestinationArn"]
    rule_to(events, unique_name, {"Arn": arn})
    put(events, unique_name, 3)
    calls = server.at("/oauth-hook", 3)
    assert len(calls) == 3
    assert all(call["headers"]["authorization"] == "Bearer tok-123" for call in calls)
    tokens = server.at("/token", 1)
    assert len(tokens) == 1  # fetched when the connection was authorized, then reused
    assert tokens[0]["headers"]["authorization"] == "Basic " + base64.b64encode(b"client:shh").decode()
    assert urllib.parse.parse_qs(tokens[0]["body"]) == {"grant_type": ["client_credentials"]}
    oauth = events.describe_connection(Name=unique_name)["AuthParameters"]["OAuthParameters"]
    assert oauth["ClientParameters"] == {"ClientID": "client"}


def test_connection_lifecycle_and_errors(events, server, unique_name):
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}
    events.create_connection(Name=unique_name, AuthorizationType="API_KEY", AuthParameters=auth)
    with pytest.raises(ClientError) as excinfo:
        events.create_connection(Name=unique_name, AuthorizationType="API_KEY", AuthParameters=auth)
    assert excinfo.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as excinfo:
        events.describe_connection(Name=f"{unique_name}-nope")
    assert excinfo.value.response["Error"]["Message"] == (
        f"Failed to describe the connection(s). Connection '{unique_name}-nope' does not exist."
    )
    with pytest.raises(ClientError) as excinfo:
        events.describe_api_destination(Name=f"{unique_name}-nope")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"
    listed = events.list_connections(NamePrefix=unique_name)["Connections"]
    assert [c["Name"] for c in listed] == [unique_name] and listed[0]["ConnectionState"] == "AUTHORIZED"

    assert events.deauthorize_connection(Name=unique_name)["ConnectionState"] == "DEAUTHORIZING"
    assert events.describe_connection(Name=unique_name)["ConnectionState"] == "DEAUTHORIZED"
    assert events.list_connections(NamePrefix=unique_name, ConnectionState="DEAUTHORIZED")["Connections"]
    events.update_connection(Name=unique_name, AuthParameters={"ApiKeyAuthParameters": {"ApiKeyValue": "w"}})
    assert events.describe_connection(Name=unique_name)["ConnectionState"] == "AUTHORIZED"

    connection_arn = events.describe_connection(Name=unique_name)["ConnectionArn"]
    events.create_api_destination(
        Name=unique_name, ConnectionArn=connection_arn, InvocationEndpoint=f"{server.url}/x", HttpMethod="POST"
    )
    events.update_api_destination(Name=unique_name, InvocationRateLimitPerSecond=5, HttpMethod="GET")
    shown = events.describe_api_destination(Name=unique_name)
    assert shown["InvocationRateLimitPerSecond"] == 5 and shown["HttpMethod"] == "GET"
    assert [d["Name"] for d in events.list_api_destinations(ConnectionArn=connection_arn)["ApiDestinations"]] == [
        unique_name
    ]
    events.delete_api_destination(Name=unique_name)
    assert events.delete_connection(Name=unique_name)["ConnectionState"] == "DELETING"
    assert not events.list_connections(NamePrefix=unique_name)["Connections"]


def _dlq(sqs, name: str, rule_arn: str) -> tuple[str, str]:
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    return make_queue(sqs, name, Policy=queue_policy_for(EVENTS, arn, rule_arn))


def test_500s_are_retried_then_dead_lettered(events, sqs, server, unique_name):
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}
    arn = destination(events, unique_name, "API_KEY", auth, f"{server.url}/status/500")
    rule_arn = events.put_rule(Name=unique_name, EventPattern=json.dumps({"source": [unique_name]}))["RuleArn"]
    url, dlq_arn = _dlq(sqs, f"{unique_name}-dlq", rule_arn)
    events.put_targets(
        Rule=unique_name,
        Targets=[
            {
                "Id": "api",
                "Arn": arn,
                "RoleArn": ROLE,
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    [event_id] = put(events, unique_name)
    [message] = receive(sqs, url, 1, 60)
    assert len(server.at("/status/500", 3)) == 3  # the first call and two retries
    assert json.loads(message["Body"])["id"] == event_id
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == arn
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExceeded"
    assert attributes["ERROR_CODE"] and "500" in attributes["ERROR_MESSAGE"]


def test_a_400_is_not_retried(events, sqs, server, unique_name):
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}
    arn = destination(events, unique_name, "API_KEY", auth, f"{server.url}/status/400")
    rule_arn = events.put_rule(Name=unique_name, EventPattern=json.dumps({"source": [unique_name]}))["RuleArn"]
    url, dlq_arn = _dlq(sqs, f"{unique_name}-dlq", rule_arn)
    events.put_targets(
        Rule=unique_name, Targets=[{"Id": "api", "Arn": arn, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": dlq_arn}}]
    )
    put(events, unique_name)
    [message] = receive(sqs, url, 1, 30)
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["RETRY_ATTEMPTS"] == "0" and "EXHAUSTED_RETRY_CONDITION" not in attributes
    assert len(server.at("/status/400", 1)) == 1


def test_rate_limit_spreads_the_calls(events, server, unique_name):
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}
    arn = destination(events, unique_name, "API_KEY", auth, f"{server.url}/rated", InvocationRateLimitPerSecond=2)
    rule_to(events, unique_name, {"Arn": arn})
    put(events, unique_name, 7)
    calls = server.at("/rated", 7, timeout=60)
    assert len(calls) == 7
    moments = sorted(call["at"] for call in calls)
    # Seven calls at two a second cannot all come within less than three seconds.
    assert moments[-1] - moments[0] >= 2.9
