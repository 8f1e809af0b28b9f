"""What the engine needs to know about a function to run it: one frozen dataclass.

Services build a FunctionSpec from their records; the engine never reads those records.
Two specs with the same `pool_key` may share warm instances.
"""
from __future__ import annotations

from dataclasses import dataclass, field


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

    @property
    def qualified_arn(self) -> str:
        return f"{self.function_arn}:{self.version}"

    @property
    def pool_key(self) -> str:
        return f"{self.function_arn}:{self.version}#{self.revision}"

    @property
    def function_prefix(self) -> str:
        """Prefix of every pool key of this function, whatever its version."""
        return f"{self.function_arn}:"
