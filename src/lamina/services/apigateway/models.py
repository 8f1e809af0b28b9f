"""Models: CreateModel, GetModel (flatten), GetModels, UpdateModel, DeleteModel,
GetModelTemplate.

A model is a JSON schema (draft 4) kept as the text given, for a content type. Every API
starts with Empty and Error. A schema references another model of its API as
`https://apigateway.amazonaws.com/restapis/<apiId>/models/<name>`; GetModel with flatten
inlines those references. A model a method request or response uses cannot be deleted.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..api_gateway_errors import bad_request, conflict
from ..context import RequestContext
from . import patch
from .errors import model_not_found
from .ids import new_id
from .paging import listed

if TYPE_CHECKING:
    from .state import RestApi, RestApiState

_NAME = re.compile(r"^[A-Za-z0-9]+$")
SCHEMA_DRAFT = "http://json-schema.org/draft-04/schema#"


def model_ref(api_id: str, name: str) -> str:
    return f"https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"


def default_models(api: RestApi) -> dict[str, dict[str, Any]]:
    empty = {"$schema": SCHEMA_DRAFT, "title": "Empty Schema", "type": "object"}
    error = {**empty, "title": "Error Schema", "properties": {"message": {"type": "string"}}}
    taken: set[str] = set()
    out = {}
    for name, schema, text in (
        ("Empty", empty, "This is a default empty schema model"),
        ("Error", error, "This is a default error schema model"),
    ):
        model_id = new_id(taken=taken)
        taken.add(model_id)
        out[name] = {
            "id": model_id,
            "name": name,
            "description": text,
            "schema": json.dumps(schema, indent=2),
            "contentType": "application/json",
        }
    return out


def check_schema(schema: str | None, content_type: str) -> None:
    if schema is None or not schema.strip():
        raise bad_request("Model schema must have at least 1 property or array items defined")
    if "json" not in content_type.lower():
        return
    try:
        document = json.loads(schema)
    except ValueError:
        raise bad_request(
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
        ) from None
    if not isinstance(document, dict) or not document:
        raise bad_request("Model schema must have at least 1 property or array items defined")


def users_of(api: RestApi, name: str) -> str | None:
    """The first method request or response that uses the model, as AWS names it
    ("method request: /pets/GET"), or None."""
    for rid in sorted(api.resources, key=api.path_of):
        path = api.path_of(rid)
        for verb, method in sorted((api.resources[rid].get("methods") or {}).items()):
            where = f"{path}/{verb}"
            if name in (method.get("requestModels") or {}).values():
                return f"method request: {where}"
            for response in (method.get("methodResponses") or {}).values():
                if name in (response.get("responseModels") or {}).values():
                    return f"method response: {where}"
    return None


def flattened(api: RestApi, name: str) -> str:
    """The schema with every reference to another model of the API inlined."""
    prefix = model_ref(api.api_id, "")

    def resolve(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                target = ref[len(prefix) :]
                model = api.models.get(target)
                if model is not None and target not in seen:
                    try:
                        inner = json.loads(model["schema"])
                    except ValueError:
                        return node
                    inner.pop("$schema", None)
                    return resolve(inner, (*seen, target))
            return {k: resolve(v, seen) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v, seen) for v in node]
        return node

    schema = api.models[name].get("schema") or ""
    try:
        document = json.loads(schema)
    except ValueError:
        return schema
    return json.dumps(resolve(document, (name,)), indent=2)


def template_of(api: RestApi, name: str) -> str:
    """A mapping template for the model (GetModelTemplate): each property of an object from
    $inputRoot, strings quoted, arrays as a #foreach."""
    try:
        schema = json.loads(flattened(api, name))
    except ValueError:
        return "#set($inputRoot = $input.path('$'))\n{}"

    def render(node: dict[str, Any], expression: str, indent: str) -> str:
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            props = node.get("properties") or {}
            lines = [
                f'{indent}  "{key}" : {render(value, f"{expression}.{key}", indent + "  ")}'
                for key, value in props.items()
            ]
            return "{\n" + ",\n".join(lines) + f"\n{indent}}}"
        if kind == "array":
            item = render(node.get("items") or {}, "$elem", indent + "  ")
            return (
                f"[\n{indent}#foreach($elem in {expression})\n{indent}  {item}#if($foreach.hasNext),#end\n"
                f"{indent}#end\n{indent}]"
            )
        if kind == "string":
            return f'"{expression}"'
        return expression

    return "#set($inputRoot = $input.path('$'))\n" + render(schema, "$inputRoot", "")


class ModelsApi:
    state: RestApiState

    async def create_model(self, params: dict, ctx: RequestContext) -> dict:
        name = params["name"]
        if not name:
            raise bad_request("Model name must be non-empty")
        if not _NAME.match(name):
            raise bad_request("Model name must be alphanumeric")
        check_schema(params.get("schema"), params["contentType"])
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            if name in api.models:
                raise conflict("Model name already exists for this REST API")
            model: dict[str, Any] = {
                "id": new_id(taken={m["id"] for m in api.models.values()}),
                "name": name,
                "schema": params["schema"],
                "contentType": params["contentType"],
            }
            if params.get("description") is not None:
                model["description"] = params["description"]
            api.models[name] = model
        return dict(model)

    async def get_model(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        model = api.models.get(params["modelName"])
        if model is None:
            raise model_not_found(params["modelName"])
        out = dict(model)
        if params.get("flatten"):
            out["schema"] = flattened(api, model["name"])
        return out

    async def get_models(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        return listed(sorted(api.models), lambda n: dict(api.models[n]), params)

    async def update_model(self, params: dict, ctx: RequestContext) -> dict:
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            model = api.models.get(params["modelName"])
            if model is None:
                raise model_not_found(params["modelName"])

            def schema(change: patch.Change) -> None:
                check_schema(change.value, model["contentType"])
                model["schema"] = change.value

            rules = [patch.field(model, "description"), patch.Rule("/schema", ("replace",), schema)]
            patch.apply(params.get("patchOperations"), rules, style="listed")
        return dict(model)

    async def delete_model(self, params: dict, ctx: RequestContext) -> dict:
        name = params["modelName"]
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            if name not in api.models:
                raise model_not_found(name)
            used = users_of(api, name)
            if used is not None:
                raise conflict(f"Cannot delete model '{name}', is referenced in {used}")
            del api.models[name]
        return {}

    async def get_model_template(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        if params["modelName"] not in api.models:
            raise model_not_found(params["modelName"])
        return {"value": template_of(api, params["modelName"])}
