"""Amazon API Gateway's REST APIs (v1) control plane, served over rest-json (botocore's
"apigateway"): what SAM's `Type: Api` events and most templates create.

    state.py              the owner: REST APIs per account and region, the store layout,
                          edits (written before they are answered), API keys, usage plans,
                          the account's settings
    usage.py              usage counters per plan, key and day (GetUsage; the data plane adds)
    served.py             what a stage serves, for the data plane: state.serving(api_id),
                          state.grant(api_id, stage, key value)
    patch.py              patchOperations: the paths each type declares, AWS's refusals
    rest_apis.py          CreateRestApi, GetRestApi(s), UpdateRestApi, DeleteRestApi
    resources.py          resources and the path tree ({param}, {proxy+})
    methods.py            methods and method responses
    integrations.py       integrations and integration responses
    deployments.py        deployments (frozen snapshots)
    stages.py             stages: variables, method settings, access logs, canary, caches
    authorizers.py        TOKEN, REQUEST and COGNITO_USER_POOLS authorizers
    validators.py         request validators
    models.py             models (JSON schema), flatten, templates
    gateway_responses.py  gateway responses and AWS's defaults
    api_keys.py           API keys (ImportApiKeys' CSV too)
    usage_plans.py        usage plans, their keys, usage
    tags.py, account.py   tags of APIs, stages, keys and plans; GetAccount/UpdateAccount
    openapi.py            ImportRestApi, PutRestApi (overwrite|merge), GetExport
    openapi_import.py     OpenAPI 3.0 / Swagger 2.0 (JSON or YAML) with AWS's extensions
    openapi_export.py     a deployment as OpenAPI 3.0 or Swagger 2.0 (JSON or YAML)
    checks.py, paging.py, ids.py, errors.py

Domain names, base path mappings, VPC links, client certificates, documentation parts and
versions, SDK generation, TestInvokeMethod and TestInvokeAuthorizer are not served (501).
The data plane (http/execute_api/) reads `ApiGatewayService.state.serving(api_id)`
(served.py documents it).
"""

from __future__ import annotations

from ...store.base import Store
from ..base import StateService
from .account import AccountApi
from .api_keys import ApiKeysApi
from .authorizers import AuthorizersApi
from .deployments import DeploymentsApi
from .gateway_responses import GatewayResponsesApi
from .integrations import IntegrationsApi
from .methods import MethodsApi
from .models import ModelsApi
from .openapi import OpenApiApi
from .resources import ResourcesApi
from .rest_apis import RestApisApi
from .served import key_grant, served_rest_api
from .stages import StagesApi
from .state import RestApiState
from .tags import TagsApi
from .usage_plans import UsagePlansApi
from .validators import ValidatorsApi


class ApiGatewayService(
    RestApisApi,
    ResourcesApi,
    MethodsApi,
    IntegrationsApi,
    DeploymentsApi,
    StagesApi,
    AuthorizersApi,
    ValidatorsApi,
    ModelsApi,
    GatewayResponsesApi,
    ApiKeysApi,
    UsagePlansApi,
    TagsApi,
    AccountApi,
    OpenApiApi,
    StateService,
):
    service_name = "apigateway"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.state = RestApiState(store, served_rest_api, key_grant)
