"""The AWS CLI's high-level S3 commands against a live server: mb, cp up and down, ls, rm,
rb --force; and s3api calls with their JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


@pytest.fixture
def aws(lamina, aws_env):
    def run(*args: str, expect: int = 0, stdin: bytes | None = None) -> str:
        result = subprocess.run(
            [AWS, "--endpoint-url", lamina.url, *args], capture_output=True, env=aws_env, timeout=120, input=stdin
        )
        assert result.returncode == expect, result.stderr.decode()
        return result.stdout.decode() + result.stderr.decode()

    return run


def test_mb_cp_ls_rm_rb(aws, tmp_path):
    bucket = "awscli-lamina"
    assert "make_bucket: awscli-lamina" in aws("s3", "mb", f"s3://{bucket}")
    local = tmp_path / "hello.txt"
    local.write_bytes(b"hello from the cli\n" * 1000)
    aws("s3", "cp", str(local), f"s3://{bucket}/dir/hello.txt")
    aws("s3", "cp", str(local), f"s3://{bucket}/top.txt")
    listing = aws("s3", "ls", f"s3://{bucket}")
    assert "PRE dir/" in listing and "top.txt" in listing
    recursive = aws("s3", "ls", f"s3://{bucket}", "--recursive")
    assert "dir/hello.txt" in recursive and str(local.stat().st_size) in recursive
    assert bucket in aws("s3", "ls")
    back = tmp_path / "back.txt"
    aws("s3", "cp", f"s3://{bucket}/dir/hello.txt", str(back))
    assert back.read_bytes() == local.read_bytes()
    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "top.txt"))
    assert head["ContentLength"] == local.stat().st_size
    aws("s3", "rm", f"s3://{bucket}/top.txt")
    assert "top.txt" not in aws("s3", "ls", f"s3://{bucket}")
    # rb refuses a bucket with objects; --force empties it first.
    assert "BucketNotEmpty" in aws("s3", "rb", f"s3://{bucket}", expect=1)
    assert "remove_bucket: awscli-lamina" in aws("s3", "rb", f"s3://{bucket}", "--force")
    assert "NoSuchBucket" in aws("s3", "ls", f"s3://{bucket}", expect=255)
