"""FileSystemConfigs (EFS access points mounted at /mnt/...) and the VpcConfig AWS requires
beside them: what CreateFunction and UpdateFunctionConfiguration accept and keep, and what
the engine is handed (LambdaState._build_spec).

The access points are EFS's: Lambda asks the composition root's callables (LambdaState's
`access_point_exists` and `mount_file_system`), never the EFS service. Lamina has no VPC:
a VpcConfig is kept and shown as given, and changes nothing about the function's network
(sandboxes use the host's)."""

from __future__ import annotations

from typing import Any

from ...errors import invalid_parameter
from .state import LambdaState


def vpc_config(given: dict | None) -> dict | None:
    """The VpcConfig kept: None unless it names subnets (an empty one takes a function out of
    its VPC, as AWS reads it)."""
    if not given or not given.get("SubnetIds"):
        return None
    kept: dict[str, Any] = {
        "SubnetIds": list(given["SubnetIds"]),
        "SecurityGroupIds": list(given.get("SecurityGroupIds") or []),
    }
    if given.get("Ipv6AllowedForDualStack") is not None:
        kept["Ipv6AllowedForDualStack"] = given["Ipv6AllowedForDualStack"]
    return kept


def check_file_systems(state: LambdaState, configs: list[dict] | None, vpc: dict | None, removing_vpc: bool) -> None:
    """AWS's checks: the access point exists, and the function is in a VPC. The path's
    pattern (/mnt/...) and the single config are the model's, checked by the protocol layer."""
    for config in configs or ():
        arn = config["Arn"]
        if vpc is None:
            if removing_vpc:
                raise invalid_parameter(
                    f"Function VPC configuration cannot be removed with access point {arn} referenced."
                )
            raise invalid_parameter(f"Function must be configured to execute in a VPC to reference access point {arn}.")
        exists = state.access_point_exists
        if exists is not None and not exists(arn):
            raise invalid_parameter(f"The access point {arn} does not exist.")


def file_system_configs(configs: list[dict] | None) -> list[dict] | None:
    """The FileSystemConfigs kept (None: none)."""
    kept = [{"Arn": c["Arn"], "LocalMountPath": c["LocalMountPath"]} for c in configs or ()]
    return kept or None
