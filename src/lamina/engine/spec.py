"""What the engine needs to know about a function to run it: one frozen dataclass.

Services build a FunctionSpec from their records; the engine never reads those records.
Two specs with the same `pool_key` may share warm instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

# Environment variables a function's configuration may not set: the runtime sets them
# (AWS's list of reserved variables; sandbox/environment.py fills them in).
RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


@dataclass(frozen=True)
class FileSystemMount:
    """A directory of the host mounted read-write (unless `read_only`) at `target` in every
    instance: an EFS access point (FileSystemConfigs). With `uid`/`gid` (the access point's
    PosixUser), whatever the sandbox creates there is owned by them on the host, as the
    access point enforces that identity for every request through it (sandbox/host.py)."""

    source: str  # the access point's root directory, on the host
    target: str  # LocalMountPath: /mnt/<name>
    uid: int | None = None
    gid: int | None = None
    read_only: bool = False  # the file system policy does not grant ClientWrite


@dataclass(frozen=True)
class FunctionSpec:
    account: str
    region: str
    name: str
    function_arn: str  # unqualified
    version: str  # "$LATEST" or "1", "2", ...
    revision: str  # changes whenever code or configuration changes
    runtime: str
    handler: str
    memory_mb: int
    timeout_s: int
    code_dir: str
    environment: dict[str, str] = field(default_factory=dict)
    opt_dir: str | None = None  # the function's layers, merged: mounted at /opt
    ephemeral_mb: int = 512
    log_group: str = ""
    log_format: str = "Text"
    architectures: tuple[str, ...] = ("x86_64",)
    snap_start: bool = False  # a published version with SnapStart: restore from its snapshot
    role: str = ""  # the execution role's ARN: each instance gets a session of it
    file_systems: tuple[FileSystemMount, ...] = ()  # FileSystemConfigs, resolved

    # Cached (in the instance's __dict__, which a frozen dataclass allows cached_property to
    # write): the pool reads pool_key several times per invoke.
    @cached_property
    def qualified_arn(self) -> str:
        return f"{self.function_arn}:{self.version}"

    @cached_property
    def pool_key(self) -> str:
        return f"{self.function_arn}:{self.version}#{self.revision}"

    @property
    def function_prefix(self) -> str:
        """Prefix of every pool key of this function, whatever its version."""
        return f"{self.function_arn}:"
