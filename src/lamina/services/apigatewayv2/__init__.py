"""Amazon API Gateway v2's control plane: HTTP and WebSocket APIs, served over rest-json.

    state.py         the owner: APIs per account and region, the store layout, edits
                     (written before they are answered), deployments and auto-deploy
    served.py        what a stage serves, for the data plane: state.serving(api_id)
    route_keys.py    route keys: parsing, AWS's rules, matching and route selection
    apis.py          CreateApi (quick create too), GetApi(s), UpdateApi, DeleteApi, CORS
    routes.py        routes
    integrations.py  integrations (Lambda, HTTP, AWS service subtypes, WebSocket's kinds)
    mappings.py      parameter mappings of integrations and routes, the subtypes' parameters
    authorizers.py   REQUEST (Lambda) and JWT authorizers
    stages.py        stages, their variables, route settings and access logging
    deployments.py   deployments
    models.py        models (WebSocket)
    responses.py     route responses and integration responses (WebSocket)
    tags.py          tags of APIs and stages
    checks.py        shared checks; paging.py the Get* lists; ids.py, errors.py

Domain names, API mappings, VPC links, portals and routing rules are not served (501).
The data plane (http/execute_api/) reads `ApiGatewayV2Service.state.serving(api_id)`.
"""

from __future__ import annotations

from ...store.base import Store
from ..base import StateService
from .apis import ApisApi
from .authorizers import AuthorizersApi
from .deployments import DeploymentsApi
from .integrations import IntegrationsApi
from .models import ModelsApi
from .responses import ResponsesApi
from .routes import RoutesApi
from .stages import StagesApi
from .state import ApiGatewayState
from .tags import TagsApi


class ApiGatewayV2Service(
    ApisApi,
    RoutesApi,
    IntegrationsApi,
    AuthorizersApi,
    StagesApi,
    DeploymentsApi,
    ModelsApi,
    ResponsesApi,
    TagsApi,
    StateService,
):
    service_name = "apigatewayv2"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.state = ApiGatewayState(store)
