"""Web identity tokens checked as AWS checks them (identity/web_identity.py): signature with
the issuer's keys (discovered, cached, refetched on a rotated key), times, audience, AWS's
codes and messages; the condition keys a trust policy reads, and the trust decision
(access/federation.py)."""

from __future__ import annotations

import asyncio
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lamina.access.federation import trusts_federated
from lamina.identity.web_identity import (
    EXPIRED,
    INVALID,
    UNREACHABLE,
    WebIdentityError,
    WebIdentityVerifier,
    condition_keys,
    without_scheme,
)

ISSUER = "https://idp.example.com"
NOW = 1_700_000_000


def _jwk(key, kid: str, alg: str) -> dict:
    public = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        data = jwt.algorithms.RSAAlgorithm.to_jwk(public)
    else:
        data = jwt.algorithms.ECAlgorithm.to_jwk(public)
    return {**json.loads(data), "kid": kid, "alg": alg, "use": "sig"}


class FakeIssuer:
    """The documents an issuer serves, and how often its key set was fetched."""

    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.keys: list[dict] = []
        self.jwks_fetches = 0
        self.down = False

    def add(self, key, kid: str, alg: str = "RS256") -> None:
        self.keys.append(_jwk(key, kid, alg))

    def __call__(self, url: str):
        if self.down:
            raise OSError("connection refused")
        if url == f"{self.issuer}/.well-known/openid-configuration":
            return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/keys"}
        if url == f"{self.issuer}/keys":
            self.jwks_fetches += 1
            return {"keys": list(self.keys)}
        raise OSError(f"404 {url}")


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def clock():
    return [float(NOW)]


@pytest.fixture
def idp(rsa_key):
    fake = FakeIssuer()
    fake.add(rsa_key, "k1")
    return fake


@pytest.fixture
def verifier(idp, clock):
    return WebIdentityVerifier(fetch=idp, clock=lambda: clock[0])


def _token(key, kid="k1", alg="RS256", **claims) -> str:
    body = {"iss": ISSUER, "sub": "user-1", "aud": "app", "iat": NOW, "exp": NOW + 300, **claims}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _refused(coro) -> WebIdentityError:
    with pytest.raises(WebIdentityError) as caught:
        asyncio.run(coro)
    return caught.value


def test_a_good_token_is_verified(verifier, rsa_key):
    identity = asyncio.run(verifier.verify(_token(rsa_key, amr=["pwd"]), ["app"]))
    assert (identity.issuer, identity.subject, identity.audience) == (ISSUER, "user-1", "app")
    assert identity.audiences == ("app",) and identity.expires == NOW + 300
    assert verifier.issuer(_token(rsa_key)) == ISSUER


@pytest.mark.parametrize("alg", ["RS384", "RS512"])
def test_every_rsa_algorithm_aws_accepts(idp, verifier, rsa_key, alg):
    idp.add(rsa_key, "k-" + alg, alg)
    assert asyncio.run(verifier.verify(_token(rsa_key, kid="k-" + alg, alg=alg), ["app"])).subject == "user-1"


@pytest.mark.parametrize(("curve", "alg"), [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384")])
def test_elliptic_curve_keys(idp, verifier, curve, alg):
    key = ec.generate_private_key(curve)
    idp.add(key, "ec", alg)
    assert asyncio.run(verifier.verify(_token(key, kid="ec", alg=alg), ["app"])).subject == "user-1"


def test_a_bad_signature_is_an_invalid_token(verifier):
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _refused(verifier.verify(_token(impostor), ["app"])).code == INVALID


def test_unsigned_and_shared_secret_tokens_are_refused(verifier):
    none = jwt.encode({"iss": ISSUER, "sub": "x", "aud": "app", "exp": NOW + 60}, None, algorithm="none")
    assert _refused(verifier.verify(none, ["app"])).code == INVALID
    hs = jwt.encode({"iss": ISSUER, "sub": "x", "aud": "app", "exp": NOW + 60}, "secret" * 8, algorithm="HS256")
    assert _refused(verifier.verify(hs, ["app"])).code == INVALID
    assert _refused(verifier.verify("garbage", ["app"])).code == INVALID


def test_an_expired_token_says_so_in_aws_words(verifier, rsa_key):
    error = _refused(verifier.verify(_token(rsa_key, iat=NOW - 600, exp=NOW - 1), ["app"]))
    assert error.code == EXPIRED
    assert error.message == (f"Token expired: current date/time {NOW} must be before the expiration date/time{NOW - 1}")


def test_a_token_from_the_future_or_without_expiry_is_invalid(verifier, rsa_key):
    assert _refused(verifier.verify(_token(rsa_key, nbf=NOW + 3600), ["app"])).code == INVALID
    assert _refused(verifier.verify(_token(rsa_key, iat=NOW + 3600), ["app"])).code == INVALID
    body = {"iss": ISSUER, "sub": "user-1", "aud": "app"}
    no_exp = jwt.encode(body, rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert _refused(verifier.verify(no_exp, ["app"])).code == INVALID
    # A minute's leeway for clocks that differ.
    assert asyncio.run(verifier.verify(_token(rsa_key, iat=NOW + 30), ["app"])).subject == "user-1"


def test_the_audience_is_azp_if_given_else_one_of_aud(verifier, rsa_key):
    error = _refused(verifier.verify(_token(rsa_key, aud="other"), ["app"]))
    assert (error.code, error.message) == (INVALID, "Incorrect token audience")
    identity = asyncio.run(verifier.verify(_token(rsa_key, aud=["x", "app"]), ["app"]))
    assert (identity.audience, identity.audiences) == ("app", ("x", "app"))
    identity = asyncio.run(verifier.verify(_token(rsa_key, aud="x", azp="app"), ["app"]))
    assert identity.audience == "app"
    # With an azp, the azp is the client: an aud among the client ids is not enough.
    assert _refused(verifier.verify(_token(rsa_key, aud="app", azp="x"), ["app"])).message == "Incorrect token audience"


def test_keys_are_cached_and_refetched_once_for_a_rotated_key(idp, verifier, rsa_key, clock):
    asyncio.run(verifier.verify(_token(rsa_key), ["app"]))
    asyncio.run(verifier.verify(_token(rsa_key), ["app"]))
    assert idp.jwks_fetches == 1
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    idp.add(rotated, "k2")
    clock[0] += 30  # past the refetch gap
    assert asyncio.run(verifier.verify(_token(rotated, kid="k2"), ["app"])).subject == "user-1"
    assert idp.jwks_fetches == 2
    # An unknown kid refetches at most once per gap, then refuses.
    error = _refused(verifier.verify(_token(rotated, kid="k3"), ["app"]))
    assert error.code == INVALID and "verification key" in error.message
    assert idp.jwks_fetches == 2
    clock[0] += 3600  # the kept set has aged out
    asyncio.run(verifier.verify(_token(rsa_key, iat=int(clock[0]), exp=int(clock[0]) + 60), ["app"]))
    assert idp.jwks_fetches == 3


def test_an_unreachable_issuer_is_an_idp_communication_error(idp, verifier, rsa_key):
    idp.down = True
    error = _refused(verifier.verify(_token(rsa_key), ["app"]))
    assert error.code == UNREACHABLE and ISSUER in error.message


def test_keys_are_fetched_over_https_or_from_a_loopback_issuer_only(rsa_key, clock):
    fake = FakeIssuer("http://idp.example.com")
    fake.add(rsa_key, "k1")
    verifier = WebIdentityVerifier(fetch=fake, clock=lambda: clock[0])
    error = _refused(verifier.verify(_token(rsa_key, iss="http://idp.example.com"), ["app"]))
    assert error.code == INVALID and fake.jwks_fetches == 0
    # A loopback issuer whose keys are on another host over http: refused too.
    sly = FakeIssuer("http://127.0.0.1:9998")
    sly.add(rsa_key, "k1")
    sly_fetch = lambda url: {"jwks_uri": "http://keys.example.com/jwks"} if "well-known" in url else sly(url)  # noqa: E731
    verifier = WebIdentityVerifier(fetch=sly_fetch, clock=lambda: clock[0])
    assert _refused(verifier.verify(_token(rsa_key, iss="http://127.0.0.1:9998"), ["app"])).code == INVALID
    local = FakeIssuer("http://127.0.0.1:9999")
    local.add(rsa_key, "k1")
    verifier = WebIdentityVerifier(fetch=local, clock=lambda: clock[0])
    assert asyncio.run(verifier.verify(_token(rsa_key, iss="http://127.0.0.1:9999"), ["app"])).subject == "user-1"


def test_fetching_does_not_block_the_event_loop(rsa_key, clock):
    slow = FakeIssuer()
    slow.add(rsa_key, "k1")

    def fetch(url):
        time.sleep(0.2)
        return slow(url)

    verifier = WebIdentityVerifier(fetch=fetch, clock=lambda: clock[0])

    async def both():
        ticks = 0

        async def ticker():
            nonlocal ticks
            for _ in range(20):
                await asyncio.sleep(0.01)
                ticks += 1

        await asyncio.gather(verifier.verify(_token(rsa_key), ["app"]), ticker())
        return ticks

    assert asyncio.run(both()) == 20


def test_condition_keys_and_the_trust_decision():
    provider_url = without_scheme("https://idp.example.com/tenant")
    assert provider_url == "idp.example.com/tenant"
    from lamina.identity.web_identity import WebIdentity

    identity = WebIdentity(
        "https://idp.example.com/tenant",
        "repo:org/app:ref:refs/heads/main",
        "app",
        ("app", "other"),
        NOW + 60,
        {"amr": ["pwd", "mfa"], "email": "a@example.com"},
    )
    keys = condition_keys(provider_url, identity)
    assert keys["idp.example.com/tenant:sub"] == "repo:org/app:ref:refs/heads/main"
    assert keys["idp.example.com/tenant:aud"] == "app"
    assert keys["idp.example.com/tenant:oaud"] == ["app", "other"]
    assert keys["idp.example.com/tenant:amr"] == ["pwd", "mfa"]
    provider = "arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant"
    role = "arn:aws:iam::123456789012:role/deploy"

    def trust(condition: dict, principal: str = provider, action: str = "sts:AssumeRoleWithWebIdentity") -> str:
        statement = {"Effect": "Allow", "Principal": {"Federated": principal}, "Action": action}
        if condition:
            statement["Condition"] = condition
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    assert trusts_federated(
        trust({"StringLike": {"idp.example.com/tenant:sub": "repo:org/app:*"}}), role, provider, keys
    )
    assert trusts_federated(
        trust({"ForAnyValue:StringEquals": {"idp.example.com/tenant:amr": "mfa"}}), role, provider, keys
    )
    assert not trusts_federated(trust({"StringEquals": {"idp.example.com/tenant:sub": "other"}}), role, provider, keys)
    assert not trusts_federated(trust({}, principal=provider + "-other"), role, provider, keys)
    assert not trusts_federated(trust({}, action="sts:AssumeRole"), role, provider, keys)
    assert not trusts_federated("not json", role, provider, keys)
    deny = json.loads(trust({}))
    deny["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"idp.example.com/tenant:email": "a@example.com"}},
        }
    )
    assert not trusts_federated(json.dumps(deny), role, provider, keys)
