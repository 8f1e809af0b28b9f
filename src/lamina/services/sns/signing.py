"""SNS's message signatures, as AWS makes them: one RSA key (2048 bits) and a self-signed
X.509 certificate holding its public half; a message's Signature is the base64 of
SHA1withRSA (SignatureVersion "1") or SHA256withRSA ("2") over AWS's string to sign.

The key and certificate are made once and kept in the data dir (`sns-signing.pem`, the key
then the certificate, mode 0600), beside the other state, so that messages signed before a
restart still verify after it; the file is created whole or not at all, and a second maker
finds the first one's (nodes sharing a data dir share the key). The certificate is served
at the SigningCertURL the messages carry (http/sns_links.py), named after its fingerprint
as AWS names its own (SimpleNotificationService-<hash>.pem), so a new key gets a new URL.

The composition root installs the data dir's signer (`use_data_dir`); without one (a
service built alone, in a test) a key is made in memory on first use.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

FILE_NAME = "sns-signing.pem"
KEY_BITS = 2048
CERTIFICATE_DAYS = 3650
RECENT_SIGNATURES = 1024  # the signatures kept for messages fanned out

# AWS's strings to sign: these keys, in this order, each as "key\nvalue\n" (a key whose
# value is absent, as a notification's Subject may be, is left out).
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")

_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def string_to_sign(fields: dict) -> str:
    """AWS's string to sign for a message (a Notification, or a Subscription- or
    UnsubscribeConfirmation)."""
    keys = NOTIFICATION_KEYS if fields.get("Type") == "Notification" else CONFIRMATION_KEYS
    return "".join(f"{key}\n{fields[key]}\n" for key in keys if fields.get(key) is not None)


class Signer:
    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self.key = key
        self.certificate = certificate
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
        fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        # The name the certificate is served under (the last part of SigningCertURL).
        self.certificate_name = f"SimpleNotificationService-{fingerprint[:32]}.pem"
        self._recent: dict[tuple[bytes, str], str] = {}  # (digest, version) -> signature

    @classmethod
    def generate(cls) -> Signer:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "sns.lamina.local"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lamina Simple Notification Service"),
            ]
        )
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    @classmethod
    def from_pem(cls, data: bytes) -> Signer:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the SNS signing key is not an RSA key")
        return cls(key, x509.load_pem_x509_certificate(data))

    def to_pem(self) -> bytes:
        key = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return key + self.certificate_pem

    @classmethod
    def from_dir(cls, data_dir: str) -> Signer:
        """The data dir's key and certificate, made there if it has none."""
        path = os.path.join(data_dir, FILE_NAME)
        try:
            with open(path, "rb") as file:
                return cls.from_pem(file.read())
        except FileNotFoundError:
            pass
        signer = cls.generate()
        temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(signer.to_pem())
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)  # whole or not at all; never replaces another's
            except FileExistsError:
                with open(path, "rb") as file:
                    return cls.from_pem(file.read())
        finally:
            os.unlink(temporary)
        return signer

    def sign(self, text: str, version: str = "1") -> str:
        """The base64 Signature of a string to sign: SHA1withRSA for version "1",
        SHA256withRSA for "2". A message fanned out to many subscriptions is signed once
        (the string to sign leaves out what differs between them)."""
        data = text.encode("utf-8")
        key = (hashlib.sha256(data).digest(), version)
        signature = self._recent.get(key)
        if signature is None:
            signature = base64.b64encode(self.key.sign(data, padding.PKCS1v15(), _HASHES[version]())).decode("ascii")
            if len(self._recent) >= RECENT_SIGNATURES:
                self._recent.pop(next(iter(self._recent)), None)
            self._recent[key] = signature
        return signature

    def verify(self, fields: dict) -> bool:
        """Whether a message's Signature is this signer's over its string to sign."""
        algorithm = _HASHES.get(str(fields.get("SignatureVersion", "1")))
        if algorithm is None or not isinstance(fields.get("Signature"), str):
            return False
        try:
            signature = base64.b64decode(fields["Signature"], validate=True)
            self.key.public_key().verify(
                signature, string_to_sign(fields).encode("utf-8"), padding.PKCS1v15(), algorithm()
            )
        except (InvalidSignature, ValueError):
            return False
        return True
