"""An OpenAPI 3.0 or Swagger 2.0 definition (JSON or YAML) into a REST API, with API
Gateway's extensions, as ImportRestApi and PutRestApi read it:

    x-amazon-apigateway-integration            a method's integration and its `responses`
                                               (selection pattern -> statusCode, templates,
                                               parameters; "default" has no pattern)
    x-amazon-apigateway-any-method             the ANY method of a path
    x-amazon-apigateway-authorizer (+ -authtype)   a security scheme that is an authorizer
                                               (token, request, cognito_user_pools); an
                                               `awsSigv4` authtype is AWS_IAM; an apiKey
                                               scheme named x-api-key makes methods need a key
    x-amazon-apigateway-auth                   {type: AWS_IAM|NONE} on an operation
    x-amazon-apigateway-request-validators     named validators; -request-validator picks one
                                               (top level: every method's default)
    x-amazon-apigateway-gateway-responses, -binary-media-types, -policy,
    -api-key-source, -minimum-compression-size, -endpoint-configuration

Definitions / components.schemas become models ("#/definitions/X" references rewritten to
the model URL); parameters in path, query and header become method request parameters;
numeric responses become method responses (headers -> response parameters, schema
references -> response models). basePath (Swagger) or the first server's path (OpenAPI 3)
is ignored, prepended or split (its first segment dropped) as the `basepath` parameter says.
What cannot be built is an error ("Errors found during import: ..."); what is only odd is a
warning, kept on the API or refused with failonwarnings.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import urlsplit

import yaml

from ...errors import ServiceError
from ..api_gateway_errors import bad_request
from . import checks
from .authorizers import authorizer_record
from .gateway_responses import DEFAULTS as GATEWAY_RESPONSE_TYPES
from .gateway_responses import TEMPLATE
from .ids import new_id
from .integrations import integration_record, integration_response_record
from .methods import put_method_record, response_record
from .models import default_models, model_ref
from .resources import add_resource
from .state import RestApi

VERBS = ("get", "put", "post", "delete", "patch", "options", "head")
ANY = "x-amazon-apigateway-any-method"
_REF = re.compile(r"^#/(?:definitions|components/schemas)/(.+)$")
_STATUS = re.compile(r"^[1-5]\d\d$")


def parse_document(body: bytes | str) -> dict[str, Any]:
    text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            document = None
    if not isinstance(document, dict) or not (
        str(document.get("swagger", "")).startswith("2") or str(document.get("openapi", "")).startswith("3")
    ):
        raise bad_request("Invalid OpenAPI input.")
    return document


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class Importer:
    """Builds the definition into `api` (a draft): `overwrite` first empties what the
    definition describes, merge (the default) adds to what is there."""

    def __init__(self, api: RestApi, document: dict[str, Any], parameters: dict[str, str]) -> None:
        self.api = api
        self.doc = document
        self.oas3 = str(document.get("openapi", "")).startswith("3")
        self.parameters = {k.lower(): v for k, v in (parameters or {}).items()}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.authorizer_ids: dict[str, str] = {}
        self.iam_schemes: set[str] = set()
        self.key_schemes: set[str] = set()
        self.validator_ids: dict[str, str] = {}

    # --- the whole API ------------------------------------------------------------------------

    def settings(self, spec: dict[str, Any], overwrite: bool) -> None:
        doc, info = self.doc, self.doc.get("info") or {}
        if info.get("title"):
            spec["name"] = str(info["title"])
        for name, key in (("description", "description"), ("version", "version")):
            if info.get(key) not in (None, ""):
                spec[name] = str(info[key])
            elif overwrite:
                spec.pop(name, None)
        types = doc.get("x-amazon-apigateway-binary-media-types")
        if types is not None or overwrite:
            spec["binaryMediaTypes"] = [str(t) for t in types or []]
            if not spec["binaryMediaTypes"]:
                spec.pop("binaryMediaTypes")
        if "x-amazon-apigateway-api-key-source" in doc:
            spec["apiKeySource"] = checks.api_key_source(str(doc["x-amazon-apigateway-api-key-source"]))
        if "x-amazon-apigateway-minimum-compression-size" in doc:
            spec["minimumCompressionSize"] = checks.compression(doc["x-amazon-apigateway-minimum-compression-size"])
        policy = doc.get("x-amazon-apigateway-policy")
        if policy is not None:
            spec["policy"] = checks.policy(policy if isinstance(policy, str) else json.dumps(policy))
        elif overwrite:
            spec["policy"] = None
        endpoint = doc.get("x-amazon-apigateway-endpoint-configuration") or {}
        if "disableExecuteApiEndpoint" in endpoint:
            spec["disableExecuteApiEndpoint"] = bool(endpoint["disableExecuteApiEndpoint"])
        if endpoint.get("vpcEndpointIds"):
            spec["endpointConfiguration"]["vpcEndpointIds"] = list(endpoint["vpcEndpointIds"])

    def build(self, overwrite: bool) -> list[str]:
        api = self.api
        if overwrite:
            api.resources = {api.root_id: {"id": api.root_id, "methods": {}}}
            api.models = default_models(api)
            api.authorizers, api.validators, api.gateway_responses = {}, {}, {}
        self.models()
        self.security()
        self.validators()
        self.gateway_responses()
        self.paths()
        if self.errors:
            raise bad_request("Errors found during import:\n\t" + "\n\t".join(self.errors))
        return self.warnings

    # --- models -------------------------------------------------------------------------------

    def rewrite(self, node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and _REF.match(value):
                    out[key] = model_ref(self.api.api_id, _REF.match(value).group(1))
                else:
                    out[key] = self.rewrite(value)
            return out
        if isinstance(node, list):
            return [self.rewrite(v) for v in node]
        return node

    def models(self) -> None:
        schemas = self.doc.get("definitions") if not self.oas3 else (self.doc.get("components") or {}).get("schemas")
        for name, schema in (schemas or {}).items():
            if not re.match(r"^[A-Za-z0-9]+$", str(name)):
                self.errors.append(f"Unable to create model '{name}': Model name must be alphanumeric")
                continue
            body = self.rewrite(schema if isinstance(schema, dict) else {})
            if isinstance(schema, dict) and "title" not in body:
                body = {"title": name, **body}
            existing = self.api.models.get(name)
            model: dict[str, Any] = {
                "id": existing["id"] if existing else new_id(taken={m["id"] for m in self.api.models.values()}),
                "name": name,
                "schema": json.dumps({"$schema": "http://json-schema.org/draft-04/schema#", **body}),
                "contentType": "application/json",
            }
            if isinstance(schema, dict) and schema.get("description"):
                model["description"] = str(schema["description"])
            self.api.models[name] = model

    def model_of(self, schema: Any) -> str | None:
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            match = _REF.match(schema["$ref"])
            if match and match.group(1) in self.api.models:
                return match.group(1)
        return None

    # --- security schemes, validators, gateway responses -----------------------------------------

    def security(self) -> None:
        schemes = (
            (self.doc.get("components") or {}).get("securitySchemes")
            if self.oas3
            else self.doc.get("securityDefinitions")
        )
        by_name = {a["name"]: a for a in self.api.authorizers.values()}
        for name, scheme in (schemes or {}).items():
            if not isinstance(scheme, dict):
                continue
            authtype = str(scheme.get("x-amazon-apigateway-authtype") or "")
            authorizer = scheme.get("x-amazon-apigateway-authorizer")
            if authorizer is None:
                if authtype.lower() == "awssigv4":
                    self.iam_schemes.add(name)
                elif scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key":
                    self.key_schemes.add(name)
                continue
            params = {
                "name": name,
                "type": _upper(authorizer.get("type") or "TOKEN"),
                "authorizerUri": authorizer.get("authorizerUri"),
                "authorizerCredentials": authorizer.get("authorizerCredentials"),
                "identitySource": authorizer.get("identitySource"),
                "identityValidationExpression": authorizer.get("identityValidationExpression"),
                "authorizerResultTtlInSeconds": authorizer.get("authorizerResultTtlInSeconds"),
                "providerARNs": authorizer.get("providerARNs"),
                "authType": authtype or None,
            }
            if params["identitySource"] is None and scheme.get("in") == "header" and scheme.get("name"):
                if params["type"] in ("TOKEN", "COGNITO_USER_POOLS"):
                    params["identitySource"] = f"method.request.header.{scheme['name']}"
            try:
                record = authorizer_record(self.api, params)
            except ServiceError as error:
                self.errors.append(f"Unable to create authorizer '{name}': {error.message}")
                continue
            if name in by_name:
                record["id"] = by_name[name]["id"]
            self.api.authorizers[record["id"]] = record
            self.authorizer_ids[name] = record["id"]

    def validators(self) -> None:
        existing = {v.get("name"): v["id"] for v in self.api.validators.values()}
        for name, given in (self.doc.get("x-amazon-apigateway-request-validators") or {}).items():
            validator_id = existing.get(name) or new_id(taken=self.api.validators)
            self.api.validators[validator_id] = {
                "id": validator_id,
                "name": name,
                "validateRequestBody": bool((given or {}).get("validateRequestBody")),
                "validateRequestParameters": bool((given or {}).get("validateRequestParameters")),
            }
            self.validator_ids[name] = validator_id

    def gateway_responses(self) -> None:
        for response_type, given in (self.doc.get("x-amazon-apigateway-gateway-responses") or {}).items():
            if response_type not in GATEWAY_RESPONSE_TYPES:
                self.warnings.append(f"Invalid gateway response type ignored: {response_type}")
                continue
            given = given or {}
            record: dict[str, Any] = {
                "responseParameters": dict(given.get("responseParameters") or {}),
                "responseTemplates": dict(given.get("responseTemplates") or {"application/json": TEMPLATE}),
            }
            status = given.get("statusCode") or GATEWAY_RESPONSE_TYPES[response_type]
            if status is not None:
                record["statusCode"] = str(status)
            self.api.gateway_responses[response_type] = record

    # --- paths --------------------------------------------------------------------------------

    def base_path(self) -> str:
        if self.oas3:
            servers = self.doc.get("servers") or []
            url = str((servers[0] or {}).get("url", "")) if servers else ""
            variables = (servers[0] or {}).get("variables") or {} if servers else {}
            for name, variable in variables.items():
                url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
            path = urlsplit(url).path if "://" in url else url
        else:
            path = str(self.doc.get("basePath") or "")
        mode = self.parameters.get("basepath", "ignore")
        segments = [s for s in path.split("/") if s]
        if mode == "prepend":
            return "/" + "/".join(segments) if segments else ""
        if mode == "split":
            return "/" + "/".join(segments[1:]) if len(segments) > 1 else ""
        return ""

    def resource_for(self, path: str) -> str:
        current = self.api.root_id
        for part in [p for p in path.split("/") if p]:
            child = next((c for c in self.api.children(current) if c["pathPart"] == part), None)
            if child is None:
                child = add_resource(self.api, current, part)
            current = child["id"]
        return current

    def paths(self) -> None:
        prefix = self.base_path()
        default_validator = self.doc.get("x-amazon-apigateway-request-validator")
        top_security = self.doc.get("security")
        for path, item in (self.doc.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            full = (prefix + "/" + str(path).strip("/")).rstrip("/") or "/"
            try:
                resource_id = self.resource_for(full)
            except ServiceError as error:
                self.errors.append(f"Unable to create resource at path '{full}': {error.message}")
                continue
            shared = item.get("parameters") or []
            for key, operation in item.items():
                verb = "ANY" if key == ANY else key.upper() if key in VERBS else None
                if verb is None or not isinstance(operation, dict):
                    continue
                self.method(resource_id, full, verb, operation, shared, default_validator, top_security)

    def request_parameters(self, given: list[Any]) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for parameter in given:
            if not isinstance(parameter, dict):
                continue
            if "$ref" in parameter:
                parameter = self.resolve(parameter["$ref"]) or {}
            where = {"path": "path", "query": "querystring", "header": "header"}.get(parameter.get("in"))
            if where and parameter.get("name"):
                out[f"method.request.{where}.{parameter['name']}"] = where == "path" or bool(parameter.get("required"))
        return out

    def resolve(self, ref: str) -> Any:
        node: Any = self.doc
        for part in ref.lstrip("#/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def method(
        self,
        resource_id: str,
        path: str,
        verb: str,
        operation: dict[str, Any],
        shared: list[Any],
        default_validator: str | None,
        top_security: Any,
    ) -> None:
        params: dict[str, Any] = {"authorizationType": "NONE"}
        if operation.get("operationId"):
            params["operationName"] = str(operation["operationId"])
        given = list(shared) + list(operation.get("parameters") or [])
        params["requestParameters"] = self.request_parameters(given)
        models: dict[str, str] = {}
        if self.oas3:
            body = operation.get("requestBody") or {}
            if "$ref" in body:
                body = self.resolve(body["$ref"]) or {}
            for content_type, media in (body.get("content") or {}).items():
                name = self.model_of((media or {}).get("schema"))
                if name:
                    models[content_type] = name
        else:
            consumes = operation.get("consumes") or self.doc.get("consumes") or ["application/json"]
            for parameter in given:
                if isinstance(parameter, dict) and parameter.get("in") == "body":
                    name = self.model_of(parameter.get("schema"))
                    if name:
                        models[consumes[0]] = name
        params["requestModels"] = models
        security = operation.get("security", top_security)
        for requirement in security or []:
            for scheme, scopes in (requirement or {}).items():
                if scheme in self.authorizer_ids:
                    authorizer = self.api.authorizers[self.authorizer_ids[scheme]]
                    params["authorizerId"] = authorizer["id"]
                    cognito = authorizer["type"] == "COGNITO_USER_POOLS"
                    params["authorizationType"] = "COGNITO_USER_POOLS" if cognito else "CUSTOM"
                    if scopes:
                        params["authorizationScopes"] = list(scopes)
                elif scheme in self.iam_schemes:
                    params["authorizationType"] = "AWS_IAM"
                elif scheme in self.key_schemes:
                    params["apiKeyRequired"] = True
                else:
                    self.warnings.append(f"Unknown security scheme '{scheme}' ignored on '{verb}' at path '{path}'")
        auth = operation.get("x-amazon-apigateway-auth") or {}
        if auth.get("type"):
            params["authorizationType"] = _upper(auth["type"])
        validator = operation.get("x-amazon-apigateway-request-validator", default_validator)
        if validator:
            if validator in self.validator_ids:
                params["requestValidatorId"] = self.validator_ids[validator]
            else:
                self.errors.append(
                    f"Unable to put method '{verb}' on resource at path '{path}': "
                    f"Invalid request validator '{validator}'"
                )
                return
        resource = self.api.resources[resource_id]
        try:
            method = put_method_record(self.api, resource_id, verb, params)
        except ServiceError as error:
            self.errors.append(f"Unable to put method '{verb}' on resource at path '{path}': {error.message}")
            return
        responses: dict[str, Any] = {}
        for code, response in (operation.get("responses") or {}).items():
            code = str(code)
            if not _STATUS.match(code) or not isinstance(response, dict):
                continue
            if "$ref" in response:
                response = self.resolve(response["$ref"]) or {}
            given_response: dict[str, Any] = {"statusCode": code}
            headers = response.get("headers") or {}
            if headers:
                given_response["responseParameters"] = {f"method.response.header.{h}": False for h in headers}
            response_models: dict[str, str] = {}
            if self.oas3:
                for content_type, media in (response.get("content") or {}).items():
                    name = self.model_of((media or {}).get("schema"))
                    if name:
                        response_models[content_type] = name
            else:
                name = self.model_of(response.get("schema"))
                if name:
                    produces = operation.get("produces") or self.doc.get("produces") or ["application/json"]
                    response_models[produces[0]] = name
            if response_models:
                given_response["responseModels"] = response_models
            responses[code] = response_record(given_response)
        if responses:
            method["methodResponses"] = responses
        integration = operation.get("x-amazon-apigateway-integration")
        if integration is not None:
            record = self.integration(resource_id, path, verb, integration)
            if record is None:
                return
            method["methodIntegration"] = record
        resource.setdefault("methods", {})[verb] = method

    def integration(self, resource_id: str, path: str, verb: str, given: dict[str, Any]) -> dict[str, Any] | None:
        params = {
            "type": _upper(given.get("type")),
            "integrationHttpMethod": _upper(given.get("httpMethod")),
            "uri": given.get("uri"),
            "credentials": given.get("credentials"),
            "requestParameters": given.get("requestParameters"),
            "requestTemplates": given.get("requestTemplates"),
            "passthroughBehavior": _upper(given.get("passthroughBehavior")),
            "contentHandling": _upper(given.get("contentHandling")),
            "timeoutInMillis": given.get("timeoutInMillis"),
            "cacheNamespace": given.get("cacheNamespace"),
            "cacheKeyParameters": given.get("cacheKeyParameters"),
            "connectionType": _upper(given.get("connectionType")),
            "connectionId": given.get("connectionId"),
            "tlsConfig": given.get("tlsConfig"),
        }
        try:
            record = integration_record(resource_id, params, None)
        except ServiceError as error:
            self.errors.append(f"Unable to put integration on '{verb}' for resource at path '{path}': {error.message}")
            return None
        responses: dict[str, Any] = {}
        for pattern, response in (given.get("responses") or {}).items():
            response = response or {}
            status = str(response.get("statusCode", ""))
            if not _STATUS.match(status):
                self.errors.append(
                    f"Unable to put integration response on '{verb}' for resource at path '{path}': "
                    f"Invalid status code '{status}'"
                )
                continue
            member = {
                "statusCode": status,
                "responseParameters": response.get("responseParameters"),
                "responseTemplates": response.get("responseTemplates"),
                "contentHandling": _upper(response.get("contentHandling")),
            }
            if pattern != "default":
                member["selectionPattern"] = str(pattern)
            try:
                responses[status] = integration_response_record(member)
            except ServiceError as error:
                self.errors.append(
                    f"Unable to put integration response on '{verb}' for resource at path '{path}': {error.message}"
                )
        record["integrationResponses"] = copy.deepcopy(responses)
        return record
