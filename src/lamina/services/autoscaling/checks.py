"""What a request names: the service namespace, dimension and resource Lamina can scale.

Lamina scales one kind of resource, Lambda's provisioned concurrency (namespace `lambda`,
dimension `lambda:function:ProvisionedConcurrency`, ResourceId `function:NAME:QUALIFIER`);
the other namespaces name resources Lamina does not have, and are refused saying so.
"""

from __future__ import annotations

import re

from ..context import RequestContext
from .state import TargetRef, validation

LAMBDA_NAMESPACE = "lambda"
LAMBDA_DIMENSION = "lambda:function:ProvisionedConcurrency"
_RESOURCE = re.compile(r"^function:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_$-]{1,128}$")


def target_ref(params: dict, ctx: RequestContext, dimension_required: bool = True) -> TargetRef:
    namespace = params["ServiceNamespace"]
    check_namespace(namespace)
    dimension = params.get("ScalableDimension")
    resource_id = params["ResourceId"]
    if dimension is None and dimension_required:
        raise validation("ScalableDimension is required.")
    if dimension is not None and dimension != LAMBDA_DIMENSION:
        raise validation("Unsupported service namespace, resource type or scalable dimension")
    if not _RESOURCE.match(resource_id) or resource_id.endswith(":$LATEST"):
        # AWS's own refusal of a ResourceId it cannot parse for the namespace.
        raise validation(f"Unsupported resource type for service namespace lambda: {resource_id}")
    return TargetRef(ctx.account_id, ctx.region, namespace, resource_id, dimension or LAMBDA_DIMENSION)


def check_namespace(namespace: str) -> None:
    if namespace != LAMBDA_NAMESPACE:
        raise validation(
            f"Lamina's Application Auto Scaling scales Lambda provisioned concurrency only "
            f"(ServiceNamespace lambda); there is no {namespace} resource in Lamina to scale."
        )


def check_capacity(name: str, value: int | None) -> None:
    if value is not None and value < 0:
        raise validation(f"{name} must be greater than or equal to 0")
