"""Function code packages: checked, stored by content, extracted once.

A zip is kept as <data>/code/<sha256 hex>.zip and, the first time an instance needs it,
extracted read-only to <data>/code/<sha256 hex>/ (with the unix modes the zip records,
so a `bootstrap` stays executable). Identical zips are stored once. Writes are fsynced
before the function record that points at them is committed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass

from ...errors import invalid_parameter

MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # AWS's deployment package limit, unzipped


@dataclass(frozen=True)
class CodeInfo:
    sha256_hex: str
    size: int

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode("ascii")


class CodeStore:
    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)
        self._extracting: dict[str, asyncio.Future] = {}

    def clear(self) -> None:
        """Lamina's reset: every package and extracted copy removed (no instance runs them)."""
        for entry in os.listdir(self.root):
            path = os.path.join(self.root, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, onerror=_writable_then_again)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

    def zip_path(self, sha_hex: str) -> str:
        return os.path.join(self.root, f"{sha_hex}.zip")

    async def save(self, data: bytes) -> CodeInfo:
        return await asyncio.get_running_loop().run_in_executor(None, self._save, data)

    def _save(self, data: bytes) -> CodeInfo:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                total = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, EOFError, OSError):
            raise invalid_parameter(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from None
        if total > MAX_UNZIPPED_BYTES:
            raise invalid_parameter(f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
        sha_hex = hashlib.sha256(data).hexdigest()
        path = self.zip_path(sha_hex)
        if not os.path.exists(path):
            fd, temp = tempfile.mkstemp(dir=self.root, suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        return CodeInfo(sha_hex, len(data))

    def read(self, sha_hex: str) -> bytes:
        with open(self.zip_path(sha_hex), "rb") as handle:
            return handle.read()

    async def directory(self, sha_hex: str) -> str:
        """The extracted code, extracting it the first time (once, however many ask)."""
        target = os.path.join(self.root, sha_hex)
        if os.path.isdir(target):
            return target
        pending = self._extracting.get(sha_hex)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = self._extracting[sha_hex] = asyncio.ensure_future(
                loop.run_in_executor(None, self._extract, sha_hex, target)
            )
        try:
            await asyncio.shield(pending)
        finally:
            self._extracting.pop(sha_hex, None)
        return target

    async def merged(self, shas: list[str]) -> str:
        """Several packages extracted over each other in order (a function's layers)."""
        name = "layers-" + hashlib.sha256(":".join(shas).encode()).hexdigest()[:32]
        target = os.path.join(self.root, name)
        if os.path.isdir(target):
            return target
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._extract_many, shas, target)
        return target

    def _extract_many(self, shas: list[str], target: str) -> None:
        if os.path.isdir(target):
            return
        temp = tempfile.mkdtemp(dir=self.root, prefix=".layers-")
        try:
            for sha_hex in shas:
                self._unpack(sha_hex, temp)
            os.chmod(temp, 0o755)
            os.replace(temp, target)
        except OSError:
            shutil.rmtree(temp, ignore_errors=True)
            if not os.path.isdir(target):
                raise

    def _unpack(self, sha_hex: str, into: str) -> None:
        with zipfile.ZipFile(self.zip_path(sha_hex)) as archive:
            for info in archive.infolist():
                extracted = archive.extract(info, into)  # extract() strips "..", absolute paths
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(extracted, mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        for folder, dirs, _ in os.walk(into):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)

    def _extract(self, sha_hex: str, target: str) -> None:
        if os.path.isdir(target):
            return
        temp = tempfile.mkdtemp(dir=self.root, prefix=f".{sha_hex[:12]}-")
        try:
            self._unpack(sha_hex, temp)
            os.chmod(temp, 0o755)
            os.replace(temp, target)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise


def _writable_then_again(function, path, _exc_info) -> None:
    """shutil.rmtree's onerror: extracted code is read-only; make the parent (and the path)
    writable and try once more."""
    for target in (os.path.dirname(path), path):
        with contextlib.suppress(OSError):
            os.chmod(target, stat.S_IRWXU)
    with contextlib.suppress(FileNotFoundError):
        function(path)
