"""What a REST API serves, for the data plane (http/execute_api/): read, never changed.

    served = state.serving(api_id)    # None: no REST API has this id (any account/region)
    served.account, served.region          # who owns it (API ids are unique on Lamina)
    served.policy                          # the resource policy (a dict, parsed) or None
    served.binary_media_types, served.api_key_source ("HEADER"|"AUTHORIZER"),
    served.minimum_compression_size, served.disable_execute_api_endpoint, served.endpoint_type
    stage = served.stages.get(name)        # None: no such stage
    stage.deployment_id
    found = stage.match("GET", "/pets/42") # None: no resource has this path
    found.resource                         # ServedResource (id, path "/pets/{id}", methods)
    found.method                           # ServedMethod for GET (ANY when GET is absent) or None
    found.path_parameters                  # {"id": "42"}; a greedy {proxy+} takes the rest
    found.method.integration               # the methodIntegration record (AWS's names), or None
    found.method.integration_responses     # by status code; found.method.responses (method's)
    found.method.authorization_type, .authorizer_id, .api_key_required, .authorization_scopes,
        .request_validator_id, .request_parameters, .request_models, .operation_name
    stage.authorizers[id], stage.validators[id], stage.models[name]   # records, AWS's names
    stage.gateway_response("MISSING_AUTHENTICATION_TOKEN")  # every type, AWS's defaults filled
    stage.variables, stage.access_log_settings, stage.tracing_enabled, stage.canary_settings
    stage.method_settings("/pets/{id}", "GET")  # the MethodSetting in force ("*/*" merged under
                                                # the method's own), AWS's defaults filled
    stage.throttling("/pets/{id}", "GET")       # (burstLimit, rateLimit)
    state.grant(api_id, stage_name, key_value)  # KeyGrant: the key and the usage plan that
                                                # covers the stage (plan_id None: none does),
                                                # or None: no key has this value
    await state.usage.record(account, region, plan_id, key_id)   # count a request (usage.py)
    state.usage.used_in_period(account, region, plan_id, key_id, quota)
    state.authorizer_cache_epoch(api_id, stage)  # moves on FlushStageAuthorizersCache

The tree, methods, integrations, authorizers, validators, models, gateway responses and the
API-level settings of a stage are those of its deployment (a snapshot taken when it was
made; the stage's `binary_media_types`, `api_key_source`, `policy`... are the snapshot's);
variables, method settings, access logging and canary settings are the stage's live ones,
as AWS applies them without a deployment. Built once per change of the API (state.py drops
the cached object on every write).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .gateway_responses import all_effective
from .patch import escape
from .stages import DEFAULT_METHOD_SETTING

if TYPE_CHECKING:
    from .state import RestApi, RestApiState


@dataclass(frozen=True)
class ServedMethod:
    http_method: str
    resource_id: str
    resource_path: str
    authorization_type: str
    authorizer_id: str | None
    api_key_required: bool
    authorization_scopes: tuple[str, ...]
    request_validator_id: str | None
    request_parameters: dict[str, bool]
    request_models: dict[str, str]
    operation_name: str | None
    responses: dict[str, dict[str, Any]]
    integration: dict[str, Any] | None
    integration_responses: dict[str, dict[str, Any]]
    record: dict[str, Any]  # the method as GetMethod shows it


@dataclass
class ServedResource:
    resource_id: str
    path: str
    path_part: str
    methods: dict[str, ServedMethod]
    static: dict[str, ServedResource] = field(default_factory=dict)
    variable: ServedResource | None = None  # a {name} child
    greedy: ServedResource | None = None  # a {name+} child

    def method(self, verb: str) -> ServedMethod | None:
        return self.methods.get(verb.upper()) or self.methods.get("ANY")

    @property
    def parameter(self) -> str:
        return self.path_part.strip("{}").rstrip("+")


@dataclass(frozen=True)
class Match:
    resource: ServedResource
    method: ServedMethod | None
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class ServedStage:
    name: str
    deployment_id: str | None
    root: ServedResource | None
    resources: dict[str, ServedResource]
    authorizers: dict[str, dict[str, Any]]
    validators: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]
    gateway_responses: dict[str, dict[str, Any]]
    binary_media_types: tuple[str, ...]
    minimum_compression_size: int | None
    api_key_source: str
    policy: dict[str, Any] | None
    variables: dict[str, str]
    settings: dict[str, dict[str, Any]]  # methodSettings as kept
    access_log_settings: dict[str, Any] | None
    tracing_enabled: bool
    canary_settings: dict[str, Any] | None
    record: dict[str, Any]  # the stage as GetStage shows it

    def match(self, verb: str, path: str) -> Match | None:
        if self.root is None:
            return None
        segments = [s for s in path.split("/") if s != ""]
        found = _walk(self.root, segments, 0, {})
        if found is None:
            return None
        resource, params = found
        return Match(resource, resource.method(verb), params)

    def gateway_response(self, response_type: str) -> dict[str, Any]:
        return self.gateway_responses[response_type]

    def method_settings(self, resource_path: str, verb: str) -> dict[str, Any]:
        merged = dict(DEFAULT_METHOD_SETTING)
        for key in ("*/*", f"{escape(resource_path)}/*", f"{escape(resource_path)}/{verb}"):
            merged.update(self.settings.get(key) or {})
        return merged

    def throttling(self, resource_path: str, verb: str) -> tuple[int, float]:
        merged = self.method_settings(resource_path, verb)
        return merged["throttlingBurstLimit"], merged["throttlingRateLimit"]


@dataclass(frozen=True)
class ServedRestApi:
    api_id: str
    account: str
    region: str
    name: str
    policy: dict[str, Any] | None
    binary_media_types: tuple[str, ...]
    api_key_source: str
    minimum_compression_size: int | None
    disable_execute_api_endpoint: bool
    endpoint_type: str
    stages: dict[str, ServedStage]


@dataclass(frozen=True)
class KeyGrant:
    key_id: str
    key_value: str
    enabled: bool
    customer_id: str | None
    account: str
    region: str
    plan_id: str | None  # the usage plan covering the stage; None: the key is in none
    throttle: dict[str, Any] | None  # the plan's {burstLimit, rateLimit}
    quota: dict[str, Any] | None  # the plan's {limit, offset, period}
    method_throttle: dict[str, dict[str, Any]]  # "<resource path>/<METHOD>" -> {burstLimit, rateLimit}


def _walk(node: ServedResource, segments: list[str], i: int, params: dict[str, str]):
    """Static parts first, then a {variable}, then a {greedy+} (which takes the rest), with
    backtracking, as API Gateway chooses."""
    if i == len(segments):
        return node, params
    segment = segments[i]
    child = node.static.get(segment)
    if child is not None:
        found = _walk(child, segments, i + 1, params)
        if found is not None:
            return found
    if node.variable is not None:
        found = _walk(node.variable, segments, i + 1, {**params, node.variable.parameter: segment})
        if found is not None:
            return found
    if node.greedy is not None:
        return node.greedy, {**params, node.greedy.parameter: "/".join(segments[i:])}
    return None


def _policy(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _method(resource: dict[str, Any], verb: str, method: dict[str, Any]) -> ServedMethod:
    from .methods import shown_method

    integration = method.get("methodIntegration")
    return ServedMethod(
        verb,
        resource["id"],
        resource["path"],
        method.get("authorizationType", "NONE"),
        method.get("authorizerId"),
        bool(method.get("apiKeyRequired")),
        tuple(method.get("authorizationScopes") or ()),
        method.get("requestValidatorId"),
        dict(method.get("requestParameters") or {}),
        dict(method.get("requestModels") or {}),
        method.get("operationName"),
        dict(method.get("methodResponses") or {}),
        integration,
        dict((integration or {}).get("integrationResponses") or {}),
        shown_method(method),
    )


def _tree(resources: dict[str, dict[str, Any]]) -> tuple[ServedResource | None, dict[str, ServedResource]]:
    nodes = {
        rid: ServedResource(
            rid,
            r["path"],
            r.get("pathPart", ""),
            {verb: _method(r, verb, m) for verb, m in (r.get("methods") or {}).items()},
        )
        for rid, r in resources.items()
    }
    root = None
    for rid, r in resources.items():
        parent = nodes.get(r.get("parentId") or "")
        node = nodes[rid]
        if parent is None:
            root = node
        elif node.path_part.endswith("+}"):
            parent.greedy = node
        elif node.path_part.startswith("{"):
            parent.variable = node
        else:
            parent.static[node.path_part] = node
    return root, nodes


def _stage(api: RestApi, stage: dict[str, Any]) -> ServedStage:
    deployment = api.deployments.get(stage.get("deploymentId") or "")
    snapshot = deployment.snapshot if deployment is not None else {}
    settings = snapshot.get("settings") or {}
    root, nodes = _tree(snapshot.get("resources") or {})
    return ServedStage(
        stage["stageName"],
        deployment.deployment_id if deployment is not None else None,
        root,
        nodes,
        snapshot.get("authorizers") or {},
        snapshot.get("validators") or {},
        snapshot.get("models") or {},
        all_effective(snapshot.get("gateway_responses") or {}),
        tuple(settings.get("binaryMediaTypes") or ()),
        settings.get("minimumCompressionSize"),
        settings.get("apiKeySource", "HEADER"),
        _policy(settings.get("policy")),
        dict(stage.get("variables") or {}),
        dict(stage.get("methodSettings") or {}),
        stage.get("accessLogSettings"),
        bool(stage.get("tracingEnabled")),
        stage.get("canarySettings"),
        stage,
    )


def served_rest_api(api: RestApi, state: RestApiState) -> ServedRestApi:
    spec = api.spec
    return ServedRestApi(
        api.api_id,
        api.account,
        api.region,
        spec["name"],
        _policy(spec.get("policy")),
        tuple(spec.get("binaryMediaTypes") or ()),
        spec.get("apiKeySource", "HEADER"),
        spec.get("minimumCompressionSize"),
        bool(spec.get("disableExecuteApiEndpoint")),
        spec["endpointConfiguration"]["types"][0],
        {name: _stage(api, stage) for name, stage in api.stages.items()},
    )


def key_grant(state: RestApiState, api_id: str, stage: str, value: str) -> KeyGrant | None:
    held = state.key_values.get(value)
    owned = state.owner_and_stages(api_id)  # a REST API, or a WebSocket API's stages
    if held is None or owned is None or held[:2] != owned[:2]:
        return None
    account, region, key_id = held
    record = state.keys.get((account, region), {}).get(key_id)
    if record is None:
        return None
    plan = None
    for candidate in state.plans.get((account, region), {}).values():
        if key_id in candidate["keys"] and any(
            s["apiId"] == api_id and s["stage"] == stage for s in candidate["plan"].get("apiStages") or []
        ):
            plan = candidate["plan"]
            break
    method_throttle: dict[str, dict[str, Any]] = {}
    if plan is not None:
        for entry in plan.get("apiStages") or []:
            if entry["apiId"] == api_id and entry["stage"] == stage:
                method_throttle = dict(entry.get("throttle") or {})
    return KeyGrant(
        key_id,
        value,
        bool(record.get("enabled")),
        record.get("customerId"),
        account,
        region,
        plan["id"] if plan else None,
        plan.get("throttle") if plan else None,
        plan.get("quota") if plan else None,
        method_throttle,
    )
