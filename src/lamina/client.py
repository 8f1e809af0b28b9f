"""A boto3 client for a Lamina server, as the `lamina` command and `lamina up` make one.

Credentials and region come from the usual AWS_* variables, else the default key pair
test/test in us-east-1, so that a fresh machine needs no AWS configuration.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.client import BaseClient


def client(service: str, endpoint: str) -> BaseClient:
    # Imported here: `lamina serve` imports this module too and should not pay for boto3.
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(retries={"max_attempts": 1}, read_timeout=960, connect_timeout=5),
    )
