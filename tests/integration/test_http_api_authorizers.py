"""HTTP APIs' authorization on a live server: a Lambda REQUEST authorizer (simple and IAM
policy responses, identity sources, its cache and ResetAuthorizersCache), a JWT authorizer
whose issuer serves its keys over HTTPS from this test (the server trusts the test's CA through
SSL_CERT_FILE), and AWS_IAM (SigV4 for execute-api, the identity engine deciding)."""

from __future__ import annotations

import datetime
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.conftest import ROLE, allow_service, make_zip
from tests.integration.test_http_api_lambda import APIGATEWAY, ECHO, client, echo_function, grant

AUTHORIZER = """
import uuid

def handler(event, context):
    token = event["headers"].get("authorization", "")
    if event.get("version") == "1.0" or "routeArn" not in event or token.startswith("policy"):
        effect = "Allow" if token.endswith("good") else "Deny"
        arn = event.get("routeArn") or event.get("methodArn")
        return {"principalId": "user-1", "context": {"nonce": str(uuid.uuid4())},
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}]}}
    return {"isAuthorized": token == "good", "context": {"nonce": str(uuid.uuid4()), "user": "alice"}}
"""


@pytest.fixture
def apigw(lamina):
    return lamina.client("apigatewayv2")


def _lambda_api(apigw, lambda_client, create_function, unique_name, **authorizer):
    echo = echo_function(create_function, lambda_client)
    authorizer_arn = create_function(code={"app.py": AUTHORIZER}, name=unique_name + "-auth")["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=authorizer_arn)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=echo)["ApiId"]
    grant(lambda_client, echo, api_id)
    authorizer_id = apigw.create_authorizer(
        ApiId=api_id,
        Name="lambda",
        AuthorizerType="REQUEST",
        AuthorizerUri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{authorizer_arn}/invocations",
        IdentitySource=["$request.header.Authorization"],
        **authorizer,
    )["AuthorizerId"]
    allow_service(
        lambda_client,
        authorizer_arn,
        APIGATEWAY,
        f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/authorizers/{authorizer_id}",
    )
    route_id = apigw.get_routes(ApiId=api_id)["Items"][0]["RouteId"]
    apigw.update_route(ApiId=api_id, RouteId=route_id, AuthorizationType="CUSTOM", AuthorizerId=authorizer_id)
    return api_id


def test_lambda_authorizer_simple_responses_and_cache(lamina, apigw, lambda_client, create_function, unique_name):
    api_id = _lambda_api(
        apigw,
        lambda_client,
        create_function,
        unique_name,
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        AuthorizerResultTtlInSeconds=300,
    )
    with client(lamina, api_id) as http:
        missing = http.get("/")
        denied = http.get("/", headers={"authorization": "bad"})
        first = http.get("/", headers={"authorization": "good"})
        second = http.get("/", headers={"authorization": "good"})
        apigw.reset_authorizers_cache(ApiId=api_id, StageName="$default")
        third = http.get("/", headers={"authorization": "good"})
    assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}
    assert denied.status_code == 403 and denied.json() == {"message": "Forbidden"}
    assert first.status_code == 200, first.text
    event = first.json()
    APIGatewayProxyEventV2Model(**event)
    context = event["requestContext"]["authorizer"]["lambda"]
    assert context["user"] == "alice"
    assert second.json()["requestContext"]["authorizer"]["lambda"]["nonce"] == context["nonce"]  # kept
    assert third.json()["requestContext"]["authorizer"]["lambda"]["nonce"] != context["nonce"]  # reset


def test_lambda_authorizer_policy_responses(lamina, apigw, lambda_client, create_function, unique_name):
    api_id = _lambda_api(apigw, lambda_client, create_function, unique_name, AuthorizerPayloadFormatVersion="1.0")
    with client(lamina, api_id) as http:
        allowed = http.get("/x", headers={"authorization": "policy-good"})
        denied = http.get("/x", headers={"authorization": "policy-bad"})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["requestContext"]["authorizer"]["lambda"]["nonce"]
    assert denied.status_code == 403 and denied.json() == {"message": "Forbidden"}


def test_an_authorizer_api_gateway_may_not_invoke_answers_500(
    lamina, apigw, lambda_client, create_function, unique_name
):
    echo = echo_function(create_function, lambda_client)
    authorizer_arn = create_function(code={"app.py": AUTHORIZER}, name=unique_name + "-auth")["FunctionArn"]
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=echo)["ApiId"]
    grant(lambda_client, echo, api_id)
    authorizer_id = apigw.create_authorizer(
        ApiId=api_id,
        Name="lambda",
        AuthorizerType="REQUEST",
        AuthorizerUri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{authorizer_arn}/invocations",
        IdentitySource=["$request.header.Authorization"],
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
    )["AuthorizerId"]
    route_id = apigw.get_routes(ApiId=api_id)["Items"][0]["RouteId"]
    apigw.update_route(ApiId=api_id, RouteId=route_id, AuthorizationType="CUSTOM", AuthorizerId=authorizer_id)
    with client(lamina, api_id) as http:
        answer = http.get("/", headers={"authorization": "good"})
    assert answer.status_code == 500 and answer.json() == {"message": "Internal Server Error"}


# --- AWS_IAM ------------------------------------------------------------------------------------


def _signed(lamina, api_id: str, path: str, credentials: tuple[str, str]) -> httpx.Response:
    host = f"{api_id}.execute-api.localhost:{lamina.port}"
    request = AWSRequest(method="GET", url=f"http://{host}{path}", headers={"host": host})
    SigV4Auth(Credentials(*credentials), "execute-api", "us-east-1").add_auth(request)
    return httpx.get(f"{lamina.url}{path}", headers=dict(request.headers.items()), timeout=60)


def test_iam_authorization(lamina, apigw, lambda_client, create_function, unique_name):
    echo = echo_function(create_function, lambda_client)
    api_id = apigw.create_api(Name=unique_name, ProtocolType="HTTP", Target=echo)["ApiId"]
    grant(lambda_client, echo, api_id)
    route_id = apigw.get_routes(ApiId=api_id)["Items"][0]["RouteId"]
    apigw.update_route(ApiId=api_id, RouteId=route_id, AuthorizationType="AWS_IAM")
    iam = lamina.client("iam")
    user = unique_name[:60]
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    user_keys = (key["AccessKeyId"], key["SecretAccessKey"])
    with client(lamina, api_id) as http:
        unsigned = http.get("/me")
    signed = _signed(lamina, api_id, "/me", ("test", "test"))
    refused = _signed(lamina, api_id, "/me", user_keys)
    iam.put_user_policy(
        UserName=user,
        PolicyName="invoke",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "execute-api:Invoke",
                        "Resource": f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*/GET/me",
                    }
                ],
            }
        ),
    )
    allowed = _signed(lamina, api_id, "/me", user_keys)
    assert unsigned.status_code == 403
    assert signed.status_code == 200, signed.text
    iam_context = signed.json()["requestContext"]["authorizer"]["iam"]
    assert iam_context["accountId"] == "000000000000" and iam_context["accessKey"] == "test"
    assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["requestContext"]["authorizer"]["iam"]["userArn"].endswith(f":user/{user}")


# --- JWT ------------------------------------------------------------------------------------------


class Issuer:
    """An OpenID provider over HTTPS: its discovery document and its key set (RSA)."""

    def __init__(self, directory) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
        self.ca_file = str(directory / "ca.pem")
        context = self._tls(directory)
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    document = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks.json"}
                elif self.path == "/jwks.json":
                    document = {"keys": [jwk]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://localhost:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _tls(self, directory) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        with open(self.ca_file, "wb") as handle:
            handle.write(certificate.public_bytes(serialization.Encoding.PEM))
        key_file = directory / "key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, str(key_file))
        return context

    def token(self, **claims) -> str:
        now = int(time.time())
        body = {"iss": self.url, "sub": "alice", "aud": "my-app", "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "key-1"})


def test_jwt_authorizer(lamina_factory, tmp_path):
    issuer = Issuer(tmp_path)
    server = lamina_factory(SSL_CERT_FILE=issuer.ca_file)
    apigw, lambda_client = server.client("apigatewayv2"), server.client("lambda")
    echo = lambda_client.create_function(
        FunctionName="echo",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": ECHO})},
    )["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=echo)
    api_id = apigw.create_api(Name="jwt", ProtocolType="HTTP", Target=echo)["ApiId"]
    grant(lambda_client, echo, api_id)
    authorizer_id = apigw.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]},
    )["AuthorizerId"]
    route_id = apigw.get_routes(ApiId=api_id)["Items"][0]["RouteId"]
    apigw.update_route(
        ApiId=api_id,
        RouteId=route_id,
        AuthorizationType="JWT",
        AuthorizerId=authorizer_id,
        AuthorizationScopes=["pets:read"],
    )
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"iss": issuer.url, "aud": "my-app", "exp": int(time.time()) + 60}, other_key, "RS256", headers={"kid": "key-1"}
    )
    with client(server, api_id) as http:
        good = http.get("/", headers={"authorization": "Bearer " + issuer.token(scope="pets:read pets:write")})
        missing = http.get("/")
        expired = http.get("/", headers={"authorization": issuer.token(scope="pets:read", exp=int(time.time()) - 10)})
        wrong_audience = http.get("/", headers={"authorization": issuer.token(scope="pets:read", aud="other")})
        by_client_id = http.get(
            "/", headers={"authorization": issuer.token(scope="pets:read", aud=None, client_id="my-app")}
        )
        no_scope = http.get("/", headers={"authorization": issuer.token(scope="pets:write")})
        bad_signature = http.get("/", headers={"authorization": forged})
    assert good.status_code == 200, good.text
    event = good.json()
    APIGatewayProxyEventV2Model(**event)
    found = event["requestContext"]["authorizer"]["jwt"]
    assert found["claims"]["sub"] == "alice" and found["claims"]["aud"] == "my-app"
    assert found["scopes"] == ["pets:read", "pets:write"]
    assert by_client_id.status_code == 200, by_client_id.text
    for refused in (missing, expired, wrong_audience, bad_signature):
        assert refused.status_code == 401 and refused.json() == {"message": "Unauthorized"}
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    assert no_scope.status_code == 403 and no_scope.json() == {"message": "Forbidden"}
    assert 'error="insufficient_scope"' in no_scope.headers["www-authenticate"]
