"""S3's error codes, statuses and messages, word for word as S3 answers them
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). The extra members
(<BucketName>, <Key>, <Condition>...) are what S3 puts beside the message."""

from __future__ import annotations

from ...errors import ServiceError


def no_such_bucket(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str, headers: dict[str, str] | None = None) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, headers=headers, Key=key)


def no_such_version(key: str, version_id: str) -> ServiceError:
    return ServiceError("NoSuchVersion", "The specified version does not exist.", 404, Key=key, VersionId=version_id)


def invalid_version_id(version_id: str) -> ServiceError:
    return invalid_argument("Invalid version id specified", "versionId", version_id)


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400, ArgumentName=name, ArgumentValue=value)


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def access_denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


def bucket_already_owned(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        BucketName=bucket,
    )


def bucket_already_exists(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of the "
        "system. Please select a different name and try again.",
        409,
        BucketName=bucket,
    )


def invalid_bucket_name(bucket: str) -> ServiceError:
    return ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, BucketName=bucket)


def bucket_not_empty(bucket: str) -> ServiceError:
    return ServiceError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=bucket)


def permanent_redirect(bucket: str, region: str) -> ServiceError:
    """A bucket of another region, asked through this one's endpoint: the client (botocore
    does) sends it again to the bucket's region, which the header names."""
    return ServiceError(
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint. "
        "Please send all future requests to this endpoint.",
        301,
        headers={"x-amz-bucket-region": region},
        Endpoint=f"s3.{region}.amazonaws.com",
        Bucket=bucket,
    )


def illegal_location_constraint(constraint: str) -> ServiceError:
    return ServiceError(
        "IllegalLocationConstraintException",
        f"The {constraint} location constraint is incompatible for the region specific endpoint this request "
        "was sent to.",
        400,
    )


def invalid_location_constraint() -> ServiceError:
    return ServiceError(
        "InvalidLocationConstraint", "The specified location-constraint is not valid", 400, LocationConstraint=None
    )


def invalid_range(requested: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        headers={"Content-Range": f"bytes */{size}"},
        RangeRequested=requested,
        ActualObjectSize=size,
    )


def invalid_part_number() -> ServiceError:
    return ServiceError("InvalidPartNumber", "The requested partnumber is not satisfiable", 416)


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, Condition=condition
    )


def not_modified(headers: dict[str, str]) -> ServiceError:
    return ServiceError("NotModified", "Not Modified", 304, headers=headers)


def conditional_conflict() -> ServiceError:
    return ServiceError(
        "ConditionalRequestConflict",
        "The conditional request cannot succeed due to a conflicting operation against this resource.",
        409,
    )


def bad_digest_md5(expected: str, calculated: str) -> ServiceError:
    return ServiceError(
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
        400,
        ExpectedDigest=expected,
        CalculatedDigest=calculated,
    )


def bad_digest_checksum(algorithm: str) -> ServiceError:
    return ServiceError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)


def invalid_digest(value: str) -> ServiceError:
    fields: dict = {"Content-MD5": value}
    return ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400, **fields)


def entity_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        400,
        ProposedSize=size,
        MaxSizeAllowed=limit,
    )


def key_too_long(size: int, limit: int) -> ServiceError:
    return ServiceError("KeyTooLongError", "Your key is too long", 400, Size=size, MaxSizeAllowed=limit)


def metadata_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "MetadataTooLarge",
        "Your metadata headers exceed the maximum allowed metadata size",
        400,
        Size=size,
        MaxSizeAllowed=limit,
    )


def malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def no_such_tag_set(bucket: str) -> ServiceError:
    return ServiceError("NoSuchTagSet", "The TagSet does not exist", 404, BucketName=bucket)


def invalid_tag(message: str) -> ServiceError:
    return ServiceError("InvalidTag", message, 400)


def method_not_allowed(method: str, headers: dict[str, str]) -> ServiceError:
    return ServiceError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        headers=headers,
        Method=method,
        ResourceType="DeleteMarker",
    )


def invalid_storage_class() -> ServiceError:
    return ServiceError("InvalidStorageClass", "The storage class you specified is not valid", 400)


def acl_not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def acl_with_object_ownership() -> ServiceError:
    return ServiceError(
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        400,
    )


def not_found_config(code: str, message: str, bucket: str) -> ServiceError:
    return ServiceError(code, message, 404, BucketName=bucket)
