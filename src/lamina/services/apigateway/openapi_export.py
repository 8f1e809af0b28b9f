"""A stage's deployment as OpenAPI 3.0 (`oas30`) or Swagger 2.0 (`swagger`), JSON or YAML
(GetExport). `extensions`: "integrations" adds x-amazon-apigateway-integration,
"authorizers" the authorizers' security schemes, "apigateway" both and the API-level
extensions (binary media types, gateway responses, request validators, policy, API key
source, minimum compression size); "postman" is taken as "integrations".

The server is where Lamina serves the stage (`http://<apiId>.execute-api.localhost:<port>`
+ `/<stage>`), as the API's endpoint is on Lamina (AWS's would name
<apiId>.execute-api.<region>.amazonaws.com).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlsplit

import yaml

from .gateway_responses import DEFAULTS as GATEWAY_RESPONSE_DEFAULTS
from .models import model_ref
from .state import Deployment, RestApi

_PARAMETER = re.compile(r"^method\.request\.(path|querystring|header)\.(.+)$")
_WHERE = {"path": "path", "querystring": "query", "header": "header"}


def host_of(api_id: str, endpoint_url: str) -> str:
    parts = urlsplit(endpoint_url)
    return f"{api_id}.execute-api.localhost" + (f":{parts.port}" if parts.port else "")


class Exporter:
    def __init__(self, api: RestApi, stage: dict[str, Any], deployment: Deployment, extensions: set[str]) -> None:
        self.api = api
        self.stage = stage
        self.snapshot = deployment.snapshot
        self.deployment = deployment
        every = "apigateway" in extensions
        self.integrations = every or "integrations" in extensions or "postman" in extensions
        self.authorizers = every or "authorizers" in extensions
        self.extras = every

    def ref(self, name: str, oas3: bool) -> str:
        return f"#/components/schemas/{name}" if oas3 else f"#/definitions/{name}"

    def schemas(self, oas3: bool) -> dict[str, Any]:
        prefix = model_ref(self.api.api_id, "")
        out = {}
        for name, model in sorted((self.snapshot.get("models") or {}).items()):
            try:
                schema = json.loads(model.get("schema") or "{}")
            except ValueError:
                continue
            schema.pop("$schema", None)
            text = json.dumps(schema).replace(prefix, self.ref("", oas3))
            out[name] = json.loads(text)
        return out

    def security_schemes(self) -> dict[str, Any]:
        schemes: dict[str, Any] = {}
        methods = [m for r in self.snapshot["resources"].values() for m in (r.get("methods") or {}).values()]
        if any(m.get("apiKeyRequired") for m in methods):
            schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
        if any(m.get("authorizationType") == "AWS_IAM" for m in methods):
            schemes["sigv4"] = {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        if self.authorizers:
            for authorizer in (self.snapshot.get("authorizers") or {}).values():
                source = authorizer.get("identitySource") or "method.request.header.Authorization"
                header = source.split(".")[-1] if source.startswith("method.request.header.") else "Unused"
                extension: dict[str, Any] = {"type": authorizer["type"].lower()}
                for name in (
                    "authorizerUri",
                    "authorizerCredentials",
                    "identitySource",
                    "identityValidationExpression",
                    "providerARNs",
                ):
                    if authorizer.get(name):
                        extension[name] = authorizer[name]
                extension["authorizerResultTtlInSeconds"] = authorizer.get("authorizerResultTtlInSeconds", 300)
                schemes[authorizer["name"]] = {
                    "type": "apiKey",
                    "name": header,
                    "in": "header",
                    "x-amazon-apigateway-authtype": authorizer.get("authType")
                    or ("cognito_user_pools" if authorizer["type"] == "COGNITO_USER_POOLS" else "custom"),
                    "x-amazon-apigateway-authorizer": extension,
                }
        return schemes

    def operation(self, method: dict[str, Any], oas3: bool) -> dict[str, Any]:
        op: dict[str, Any] = {}
        if method.get("operationName"):
            op["operationId"] = method["operationName"]
        parameters = []
        for key, required in sorted((method.get("requestParameters") or {}).items()):
            match = _PARAMETER.match(key)
            if match is None:
                continue
            where, name = match.groups()
            parameter: dict[str, Any] = {"name": name, "in": _WHERE[where], "required": bool(required)}
            if oas3:
                parameter["schema"] = {"type": "string"}
            else:
                parameter["type"] = "string"
            parameters.append(parameter)
        models = {ct: m for ct, m in (method.get("requestModels") or {}).items()}
        if models and not oas3:
            name = next(iter(models.values()))
            parameters.append({"in": "body", "name": name, "required": True, "schema": {"$ref": self.ref(name, False)}})
            op["consumes"] = list(models)
        if parameters:
            op["parameters"] = parameters
        if models and oas3:
            op["requestBody"] = {
                "content": {ct: {"schema": {"$ref": self.ref(m, True)}} for ct, m in models.items()},
                "required": True,
            }
        responses: dict[str, Any] = {}
        for code, response in sorted((method.get("methodResponses") or {}).items()):
            shown: dict[str, Any] = {"description": f"{code} response"}
            headers = {
                key.split(".", 3)[3]: ({"schema": {"type": "string"}} if oas3 else {"type": "string"})
                for key in (response.get("responseParameters") or {})
                if key.startswith("method.response.header.")
            }
            if headers:
                shown["headers"] = headers
            response_models = response.get("responseModels") or {}
            if response_models:
                if oas3:
                    shown["content"] = {
                        ct: {"schema": {"$ref": self.ref(m, True)}} for ct, m in response_models.items()
                    }
                else:
                    shown["schema"] = {"$ref": self.ref(next(iter(response_models.values())), False)}
                    op["produces"] = list(response_models)
            responses[code] = shown
        op["responses"] = responses
        security = []
        kind = method.get("authorizationType", "NONE")
        authorizer = (self.snapshot.get("authorizers") or {}).get(method.get("authorizerId") or "")
        if kind in ("CUSTOM", "COGNITO_USER_POOLS") and authorizer is not None and self.authorizers:
            security.append({authorizer["name"]: list(method.get("authorizationScopes") or [])})
        if kind == "AWS_IAM":
            security.append({"sigv4": []})
        if method.get("apiKeyRequired"):
            security.append({"api_key": []})
        if security:
            op["security"] = security
        if self.extras and method.get("requestValidatorId"):
            validator = (self.snapshot.get("validators") or {}).get(method["requestValidatorId"])
            if validator is not None:
                op["x-amazon-apigateway-request-validator"] = validator.get("name") or validator["id"]
        integration = method.get("methodIntegration")
        if self.integrations and integration is not None:
            op["x-amazon-apigateway-integration"] = self.integration(integration)
        return op

    def integration(self, record: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": record["type"].lower()}
        for name in (
            "httpMethod",
            "uri",
            "credentials",
            "connectionType",
            "connectionId",
            "requestParameters",
            "requestTemplates",
            "contentHandling",
            "cacheNamespace",
            "cacheKeyParameters",
            "tlsConfig",
        ):
            if record.get(name) not in (None, [], {}):
                out[name] = record[name]
        out["passthroughBehavior"] = record.get("passthroughBehavior", "WHEN_NO_MATCH").lower()
        out["timeoutInMillis"] = record.get("timeoutInMillis", 29000)
        responses = {}
        for code, response in sorted((record.get("integrationResponses") or {}).items()):
            key = response.get("selectionPattern") or "default"
            shown: dict[str, Any] = {"statusCode": code}
            for name in ("responseParameters", "responseTemplates", "contentHandling"):
                if response.get(name):
                    shown[name] = response[name]
            responses[key] = shown
        if responses:
            out["responses"] = responses
        return out

    def paths(self, oas3: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        resources = self.snapshot["resources"]
        for resource in sorted(resources.values(), key=lambda r: r["path"]):
            methods = resource.get("methods") or {}
            if not methods:
                continue
            item = {}
            for verb, method in sorted(methods.items()):
                key = "x-amazon-apigateway-any-method" if verb == "ANY" else verb.lower()
                item[key] = self.operation(method, oas3)
            out[resource["path"]] = item
        return out

    def api_extensions(self, document: dict[str, Any]) -> None:
        if not self.extras:
            return
        settings = self.snapshot.get("settings") or {}
        if settings.get("binaryMediaTypes"):
            document["x-amazon-apigateway-binary-media-types"] = list(settings["binaryMediaTypes"])
        if settings.get("apiKeySource") and settings["apiKeySource"] != "HEADER":
            document["x-amazon-apigateway-api-key-source"] = settings["apiKeySource"]
        if settings.get("minimumCompressionSize") is not None:
            document["x-amazon-apigateway-minimum-compression-size"] = settings["minimumCompressionSize"]
        if settings.get("policy"):
            document["x-amazon-apigateway-policy"] = json.loads(settings["policy"])
        validators = self.snapshot.get("validators") or {}
        if validators:
            document["x-amazon-apigateway-request-validators"] = {
                (v.get("name") or v["id"]): {
                    "validateRequestBody": bool(v.get("validateRequestBody")),
                    "validateRequestParameters": bool(v.get("validateRequestParameters")),
                }
                for v in validators.values()
            }
        responses = self.snapshot.get("gateway_responses") or {}
        if responses:
            document["x-amazon-apigateway-gateway-responses"] = {
                t: {k: v for k, v in r.items() if v not in (None, {})}
                for t, r in sorted(responses.items())
                if t in GATEWAY_RESPONSE_DEFAULTS
            }

    def document(self, export_type: str, endpoint_url: str) -> dict[str, Any]:
        oas3 = export_type == "oas30"
        info: dict[str, Any] = {
            "title": self.api.spec["name"],
            "version": self.api.spec.get("version")
            or dt.datetime.fromtimestamp(self.deployment.created, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self.api.spec.get("description"):
            info["description"] = self.api.spec["description"]
        host = host_of(self.api.api_id, endpoint_url)
        stage = self.stage["stageName"]
        schemes = self.security_schemes()
        schemas = self.schemas(oas3)
        if oas3:
            document: dict[str, Any] = {
                "openapi": "3.0.1",
                "info": info,
                "servers": [{"url": f"http://{host}/{{basePath}}", "variables": {"basePath": {"default": stage}}}],
                "paths": self.paths(True),
                "components": {},
            }
            if schemas:
                document["components"]["schemas"] = schemas
            if schemes:
                document["components"]["securitySchemes"] = schemes
        else:
            document = {
                "swagger": "2.0",
                "info": info,
                "host": host,
                "basePath": f"/{stage}",
                "schemes": ["http"],
                "paths": self.paths(False),
            }
            if schemes:
                document["securityDefinitions"] = schemes
            if schemas:
                document["definitions"] = schemas
        self.api_extensions(document)
        return document


def rendered(document: dict[str, Any], yaml_wanted: bool) -> bytes:
    if yaml_wanted:
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8")
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
