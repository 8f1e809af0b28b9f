"""The process environment of a sandbox, as the AWS Python runtime sets it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ..spec import FunctionSpec
from . import guest
from .host import Placement

# AWS_LAMBDA_INITIALIZATION_TYPE: how the instance came to be.
ON_DEMAND = "on-demand"
PROVISIONED = "provisioned-concurrency"
SNAP_START = "snap-start"


# A function's credentials: (access key, secret, session token or None), minted per instance.
Credentials = Callable[[FunctionSpec], tuple[str, str, "str | None"]]


@dataclass(frozen=True)
class Platform:
    """What every sandbox is told of the platform: the AWS endpoint its SDK calls go to, and
    the credentials they are signed with (`credentials`: a session of the function's
    execution role per instance, as Lambda gives it; or one fixed key pair)."""

    endpoint_url: str
    credentials: Credentials | tuple[str, str]

    def environment(
        self,
        spec: FunctionSpec,
        log_stream: str,
        placement: Placement,
        initialization_type: str = ON_DEMAND,
        runtime_api: str = "",
        interpreter: str | None = None,
        runtime_dir: str = guest.DIRECTORY,
    ) -> dict[str, str]:
        """The environment of a sandbox of `spec` placed at `placement`; `interpreter`, the
        executable of its language runtime, comes first on its PATH; `runtime_dir` is where
        the runtime's own files are (LAMBDA_RUNTIME_DIR)."""
        return sandbox_environment(
            spec,
            log_stream,
            self.endpoint_url,
            self.credentials(spec) if callable(self.credentials) else (*self.credentials, None),
            runtime_api=runtime_api,
            initialization_type=initialization_type,
            task_root=placement.task_root,
            opt_dir=placement.opt_dir,
            runtime_dir=runtime_dir,
            bin_dir=os.path.dirname(interpreter) if interpreter else None,
        )


def sandbox_environment(
    spec: FunctionSpec,
    log_stream: str,
    endpoint_url: str,
    credentials: tuple[str, str, str | None],
    runtime_api: str = "",
    initialization_type: str = ON_DEMAND,
    task_root: str | None = None,
    opt_dir: str | None = None,
    runtime_dir: str = guest.DIRECTORY,
    bin_dir: str | None = None,
) -> dict[str, str]:
    path = "/usr/local/bin:/usr/bin:/bin:/opt/bin"
    env = {
        # The function's own variables first: everything below is Lambda's and wins.
        **spec.environment,
        "PATH": f"{bin_dir}:{path}" if bin_dir else path,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""),
        "_HANDLER": spec.handler,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_ACCESS_KEY_ID": credentials[0],
        "AWS_SECRET_ACCESS_KEY": credentials[1],
        **({"AWS_SESSION_TOKEN": credentials[2]} if credentials[2] else {}),
        "AWS_ENDPOINT_URL": endpoint_url,
        "LAMBDA_TASK_ROOT": task_root or spec.code_dir,
        "LAMBDA_RUNTIME_DIR": runtime_dir,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if runtime_api:
        env["AWS_LAMBDA_RUNTIME_API"] = runtime_api
    if opt_dir:
        env["_LAMINA_OPT"] = opt_dir  # the bootstrap puts its python/ dirs on sys.path
    if "HOME" not in env:
        env["HOME"] = "/tmp"
    return env
