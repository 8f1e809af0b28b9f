"""GET /_lamina/code/<sha256>.zip: a function's deployment package, where GetFunction's
Code.Location points (AWS hands out a presigned S3 URL there)."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from typing import Protocol

from ..protocol.messages import Request, Response

_CODE_PATH = re.compile(r"^/_lamina/code/([0-9a-f]{64})\.zip$")


class Packages(Protocol):
    def zip_path(self, sha: str) -> str: ...

    def read(self, sha: str) -> bytes: ...


def code_handler(packages: Packages) -> Callable[[Request], Awaitable[Response]]:
    async def code_zip(request: Request) -> Response:
        match = _CODE_PATH.match(request.path)
        if not match or not os.path.exists(packages.zip_path(match.group(1))):
            return Response(404, [("content-type", "text/plain")], b"not found")
        return Response(200, [("content-type", "application/zip")], packages.read(match.group(1)))

    return code_zip
