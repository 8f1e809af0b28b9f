"""The packages AWS's Python runtimes bundle, offered to functions beside the standard library.

AWS's Python runtime gives a function the standard library, its code and layers, and
boto3 with botocore and what they need: nothing else (no yaml, no pydantic, no pytest).
Lamina depends on the same pure-Python packages, so a directory of links to its installed
copies is the runtime's for every Python version they support: interpreters import them
from there (mounted at /var/runtime inside sandboxes), and nothing else of Lamina's
environment is in reach.

A Python older than those copies support (python3.9: today's botocore needs 3.10) gets a
set of its own, as AWS's older runtimes ship older SDKs: the newest releases that support
it, installed once with pip into Lamina's cache (`lamina runtimes --prepare` does it
ahead; otherwise the first zygote of that version does).
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import sys
import threading

log = logging.getLogger("lamina.sandbox")

# The distributions AWS's python3.x runtimes bundle: boto3 and its dependencies, and
# snapshot-restore-py (SnapStart's runtime hooks). Not the runtime interface client
# (awslambdaric): it has a compiled part, built for Lamina's own Python only.
DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
    "snapshot-restore-py",
)
# What pip is asked for when a version needs a set of its own (the rest are dependencies).
REQUESTED = ("boto3", "snapshot-restore-py")
PIP_TIMEOUT_S = 300


def _top_level(dist: importlib.metadata.Distribution) -> set[str]:
    """The installed top-level names of a distribution: its packages, modules, dist-info."""
    names: set[str] = set()
    for file in dist.files or ():
        top = file.parts[0]
        if top.endswith(".pth") or top == ".." or top.startswith("__") or top == "bin":
            continue
        names.add(top)
    return names


def supports(requires_python: str | None, version: tuple[int, int]) -> bool:
    """Whether a Requires-Python such as ">= 3.10" admits `version` (only lower bounds are
    read: they are what rules old Pythons out)."""
    for match in re.finditer(r"(>=|>)\s*(\d+)\.(\d+)", requires_python or ""):
        bound = (int(match.group(2)), int(match.group(3)))
        if version < bound or (match.group(1) == ">" and version == bound):
            return False
    return True


class RuntimePackages:
    def __init__(self, directory: str, cache_dir: str) -> None:
        self.directory = directory  # the links to Lamina's own copies live here
        self.cache_dir = cache_dir  # per-version sets installed with pip
        self._own = self._installed()
        self._lock = threading.Lock()
        self._linked = False

    @staticmethod
    def _installed() -> list[importlib.metadata.Distribution]:
        found = []
        for name in DISTRIBUTIONS:
            try:
                found.append(importlib.metadata.distribution(name))
            except importlib.metadata.PackageNotFoundError:
                log.warning("the Python runtimes offer no %s: it is not installed beside Lamina", name)
        return found

    def own_supports(self, version: tuple[int, int]) -> bool:
        return all(supports(dist.metadata["Requires-Python"], version) for dist in self._own)

    def for_version(self, version: tuple[int, int]) -> str | None:
        """The packages dir for Python `version` (may install with pip: call it off the loop),
        or None if there is none to offer."""
        with self._lock:
            if self.own_supports(version):
                if not self._linked:
                    self._link()
                    self._linked = True
                return self.directory
            return self._own_set(version)

    def _link(self) -> None:
        directory = self.directory
        os.makedirs(directory, exist_ok=True)
        wanted: dict[str, str] = {}
        for dist in self._own:
            for top in _top_level(dist):
                path = str(dist.locate_file(top))
                if os.path.exists(path):
                    wanted[top] = os.path.realpath(path)
        for entry in os.listdir(directory):
            path = os.path.join(directory, entry)
            if entry not in wanted or not os.path.islink(path) or os.readlink(path) != wanted[entry]:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        for top, target in wanted.items():
            path = os.path.join(directory, top)
            if not os.path.lexists(path):
                os.symlink(target, path)

    def _own_set(self, version: tuple[int, int]) -> str | None:
        target = os.path.join(self.cache_dir, f"python{version[0]}.{version[1]}")
        if os.path.exists(os.path.join(target, ".complete")):
            return target
        log.info("installing the SDK packages for python%d.%d with pip into %s", *version, target)
        staging = f"{target}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            staging,
            "--python-version",
            f"{version[0]}.{version[1]}",
            "--only-binary=:all:",
            *REQUESTED,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.warning("cannot install the SDK for python%d.%d: %s", *version, error)
            return None
        if done.returncode != 0:
            log.warning("cannot install the SDK for python%d.%d: %s", *version, done.stderr.strip()[-500:])
            return None
        open(os.path.join(staging, ".complete"), "w").close()
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        return target


def sdk_version(packages: RuntimePackages, version: tuple[int, int]) -> str | None:
    """The boto3 that functions on Python `version` get, or None while it is not installed."""
    if packages.own_supports(version):
        return importlib.metadata.version("boto3")
    directory = os.path.join(packages.cache_dir, f"python{version[0]}.{version[1]}")
    if not os.path.exists(os.path.join(directory, ".complete")):
        return None
    found = list(importlib.metadata.distributions(name="boto3", path=[directory]))
    return found[0].version if found else None
