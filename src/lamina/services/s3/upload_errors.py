"""S3's errors of multipart uploads, presigned POSTs and their forms, word for word as S3
answers them (errors.py has the rest)."""

from __future__ import annotations

from ...errors import ServiceError
from .errors import invalid_argument, invalid_request

MIN_PART_BYTES = 5 * 1024 * 1024


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted "
        "or completed.",
        404,
        UploadId=upload_id,
    )


def invalid_part(upload_id: str, number: int, etag: str) -> ServiceError:
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the "
        "specified entity tag may not match the part's entity tag.",
        400,
        UploadId=upload_id,
        PartNumber=number,
        ETag=etag.strip('"'),
    )


def invalid_part_order() -> ServiceError:
    return ServiceError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        400,
    )


def part_too_small(size: int, number: int, etag: str) -> ServiceError:
    return ServiceError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        400,
        ProposedSize=size,
        MinSizeAllowed=MIN_PART_BYTES,
        PartNumber=number,
        ETag=etag.strip('"'),
    )


def entity_too_small(size: int, minimum: int) -> ServiceError:
    return ServiceError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        400,
        ProposedSize=size,
        MinSizeAllowed=minimum,
    )


def bad_part_number(number: object) -> ServiceError:
    return invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", str(number))


def no_parts() -> ServiceError:
    return invalid_request("You must specify at least one part")


def checksum_type_mismatch(expected: str, actual: str | None) -> ServiceError:
    return invalid_request(
        f"Checksum Type mismatch occurred, expected checksum Type: {expected.lower()}, actual checksum Type: "
        f"{actual.lower() if actual else 'null'}"
    )


def missing_part_checksum(algorithm: str, number: int) -> ServiceError:
    return invalid_request(
        f"The upload was created using a {algorithm.lower()} checksum. The complete request must include the "
        f"checksum for each part. It was missing for part {number} in the request."
    )


def checksum_mode_mismatch(checksum_type: str) -> ServiceError:
    return invalid_request(
        f"The upload was created using the {checksum_type} checksum mode. The complete request must use the same "
        "checksum mode."
    )


def bad_copy_range() -> ServiceError:
    return invalid_argument(
        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the "
        "zero-based offsets of the first and last bytes to copy",
        "x-amz-copy-source-range",
    )


def copy_range_outside(size: int) -> ServiceError:
    return invalid_request(f"Range specified is not valid for source object of size: {size}")


def policy_denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {message}", 403)


def post_missing_field(name: str) -> ServiceError:
    return invalid_argument(
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields.",
        name,
        "",
    )
