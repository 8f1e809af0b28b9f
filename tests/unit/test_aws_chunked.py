"""aws-chunked bodies (protocol/aws_chunked.py): AWS's documented signed example, boto3's
unsigned bodies with a trailing checksum, and what is refused."""

from __future__ import annotations

import hashlib
import hmac
import io

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from lamina.errors import ServiceError
from lamina.protocol.aws_chunked import ChunkedDecoder, ChunkSigning, decode


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


# AWS's example in "Signature calculations for the Authorization header: transferring
# payload in multiple chunks (chunked upload)": 65 KB of 'a' in a 64 KB and a 1 KB chunk.
EXAMPLE = ChunkSigning(
    key=signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
    timestamp="20130524T000000Z",
    scope="20130524/us-east-1/s3/aws4_request",
    seed="4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
)
SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)


def example_body(signatures=SIGNATURES) -> bytes:
    first, second, last = signatures
    return (
        b"10000;chunk-signature=%s\r\n%s\r\n" % (first.encode(), b"a" * 65536)
        + b"400;chunk-signature=%s\r\n%s\r\n" % (second.encode(), b"a" * 1024)
        + b"0;chunk-signature=%s\r\n\r\n" % last.encode()
    )


def test_awss_signed_example_decodes_in_any_pieces():
    body = example_body()
    for step in (1, 7, 1000, len(body)):
        decoder = ChunkedDecoder(EXAMPLE, decoded_length=66560)
        payload = b"".join(decoder.feed(body[i : i + step]) for i in range(0, len(body), step))
        assert payload == b"a" * 66560
        assert decoder.close() == {}


def test_a_forged_chunk_is_refused_as_it_ends():
    forged = bytearray(example_body())
    forged[200] = ord("b")  # inside the first chunk's data
    decoder = ChunkedDecoder(EXAMPLE)
    with pytest.raises(ServiceError) as refused:
        decoder.feed(bytes(forged))
    assert (refused.value.code, refused.value.status) == ("SignatureDoesNotMatch", 403)
    wrong_seed = ChunkSigning(EXAMPLE.key, EXAMPLE.timestamp, EXAMPLE.scope, "0" * 64)
    with pytest.raises(ServiceError):
        decode(example_body(), wrong_seed)


def test_boto3s_unsigned_body_with_a_trailing_checksum():
    data = b"hello world" * 100000
    wrapped = AwsChunkedWrapper(io.BytesIO(data), Crc32Checksum, "x-amz-checksum-crc32", chunk_size=65536)
    payload, trailers = decode(wrapped.read(), decoded_length=len(data))
    assert payload == data
    expected = Crc32Checksum()
    expected.update(data)
    assert trailers == {"x-amz-checksum-crc32": expected.b64digest()}


def test_a_signed_trailer():
    previous = SIGNATURES[2]
    trailer = b"x-amz-checksum-crc32c:sOO8/Q==\n"
    signature = EXAMPLE.trailer(previous, trailer)
    body = example_body()[:-2] + b"x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:%s\r\n\r\n" % (
        signature.encode()
    )
    payload, trailers = decode(body, EXAMPLE)
    assert len(payload) == 66560 and trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}
    tampered = body.replace(b"sOO8/Q==", b"AAAAAA==")
    with pytest.raises(ServiceError):
        decode(tampered, EXAMPLE)


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhello\r\n",  # no last chunk
        b"zz\r\nhello\r\n0\r\n\r\n",  # not a size
        b"5\r\nhelloXX0\r\n\r\n",  # data longer than its size
        b"3\r\nhello\r\n0\r\n\r\n",
    ],
)
def test_malformed_bodies_are_incomplete(body):
    with pytest.raises(ServiceError) as refused:
        decode(body)
    assert refused.value.code == "IncompleteBody"


def test_a_decoded_length_that_does_not_match():
    with pytest.raises(ServiceError) as refused:
        decode(b"5\r\nhello\r\n0\r\n\r\n", decoded_length=6)
    assert refused.value.code == "IncompleteBody"


def read(body) -> bytes:
    import asyncio

    return asyncio.run(body.read())


def test_a_body_decodes_and_checks_its_signed_hash():
    from lamina.protocol.bodies import Body

    data = b"hello world"
    assert read(Body(data, expected_sha256=hashlib.sha256(data).hexdigest())) == data
    with pytest.raises(ServiceError) as refused:
        read(Body(data, expected_sha256=hashlib.sha256(b"other").hexdigest()))
    assert refused.value.code == "XAmzContentSHA256Mismatch"

    async def arriving():
        body = example_body()
        for start in range(0, len(body), 5000):
            yield body[start : start + 5000]

    chunked = Body(arriving(), ChunkedDecoder(EXAMPLE, decoded_length=66560), length=66560)
    assert read(chunked) == b"a" * 66560 and chunked.trailers == {}
