"""Request validation (api-gateway-method-request-validation): a method's request validator
checks, before the integration runs,

- validateRequestParameters: the method's required requestParameters
  (`method.request.{header|querystring|path}.NAME: true`) are present and not empty, else
  400 BAD_REQUEST_PARAMETERS "Missing required request parameters: [a, b]";
- validateRequestBody: the body against the JSON schema (draft 4) of the method's
  requestModels entry for the request's Content-Type (application/json when it has none;
  `$default` otherwise), else 400 BAD_REQUEST_BODY "Invalid request body" (what was wrong in
  $context.error.validationErrorString). Models may refer to others by their URL
  (`https://apigateway.amazonaws.com/restapis/{api}/models/{name}`).

Compiled validators are kept per model schema text.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .calls import RestCall
from .mapping import content_type
from .refusals import Refusal
from .sources import resolve

_KEPT = 256


def _missing(call: RestCall, method: Any) -> list[str]:
    missing = []
    for expression, required in method.request_parameters.items():
        if not required:
            continue
        if not resolve(expression, call):
            missing.append(expression.rsplit(".", 1)[-1])
    return missing


class Validators:
    def __init__(self) -> None:
        self._compiled: dict[tuple[str, str], Draft4Validator | None] = {}

    def check(self, call: RestCall, stage: Any, method: Any, body: bytes) -> None:
        validator = stage.validators.get(method.request_validator_id or "") if method.request_validator_id else None
        if not validator:
            return
        if validator.get("validateRequestParameters"):
            missing = _missing(call, method)
            if missing:
                message = f"Missing required request parameters: [{', '.join(missing)}]"
                raise Refusal("BAD_REQUEST_PARAMETERS", message, 400)
        if validator.get("validateRequestBody") and method.request_models:
            models = method.request_models
            name = models.get(content_type(call)) or models.get("$default")
            model = stage.models.get(name) if name else None
            if model is None or name == "Empty":
                return
            compiled = self._validator(call.api_id, stage, model)
            if compiled is None:
                return
            try:
                document = json.loads(body or b"null")
            except ValueError as error:
                call.validation_error = f'["Invalid JSON: {error}"]'
                raise Refusal("BAD_REQUEST_BODY", "Invalid request body", 400) from None
            problems = sorted(compiled.iter_errors(document), key=lambda e: list(e.path))
            if problems:
                call.validation_error = json.dumps([p.message for p in problems])
                raise Refusal("BAD_REQUEST_BODY", "Invalid request body", 400)

    def _validator(self, api_id: str, stage: Any, model: dict[str, Any]) -> Draft4Validator | None:
        schema_text = model.get("schema") or "{}"
        key = (api_id, schema_text)
        if key in self._compiled:
            return self._compiled[key]
        try:
            schema = json.loads(schema_text)
            resources = []
            for other in stage.models.values():
                url = f"https://apigateway.amazonaws.com/restapis/{api_id}/models/{other.get('name')}"
                resources.append((url, Resource.from_contents(json.loads(other.get("schema") or "{}"), DRAFT4)))
            registry: Registry = Registry().with_resources(resources)
            compiled: Draft4Validator | None = Draft4Validator(schema, registry=registry)
        except (ValueError, TypeError):
            compiled = None  # a model AWS would have refused: nothing to check against
        if len(self._compiled) >= _KEPT:
            self._compiled.clear()
        self._compiled[key] = compiled
        return compiled
