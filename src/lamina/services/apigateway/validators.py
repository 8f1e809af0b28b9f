"""Request validators: CreateRequestValidator, GetRequestValidator(s),
UpdateRequestValidator (/name, /validateRequestBody, /validateRequestParameters),
DeleteRequestValidator. A method names one by requestValidatorId."""

from __future__ import annotations

from typing import Any

from ..api_gateway_errors import bad_request, conflict, not_found
from ..context import RequestContext
from . import patch
from .errors import VALIDATOR_NOT_FOUND
from .ids import new_id
from .paging import listed
from .state import RestApi, RestApiState


def validator_record(api: RestApi, params: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"id": new_id(taken=api.validators)}
    if params.get("name") is not None:
        record["name"] = params["name"]
    record["validateRequestBody"] = bool(params.get("validateRequestBody"))
    record["validateRequestParameters"] = bool(params.get("validateRequestParameters"))
    return record


def validator_of(api: RestApi, validator_id: str) -> dict[str, Any]:
    record = api.validators.get(validator_id)
    if record is None:
        raise not_found(VALIDATOR_NOT_FOUND)
    return record


class ValidatorsApi:
    state: RestApiState

    async def create_request_validator(self, params: dict, ctx: RequestContext) -> dict:
        missing = bad_request("Invalid REST API identifier specified")  # AWS's answer here
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            record = validator_record(api, params)
            api.validators[record["id"]] = record
            return dict(record)

    async def get_request_validator(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"], not_found(VALIDATOR_NOT_FOUND))
        return dict(validator_of(api, params["requestValidatorId"]))

    async def get_request_validators(self, params: dict, ctx: RequestContext) -> dict:
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        return listed(sorted(api.validators), lambda i: dict(api.validators[i]), params)

    async def update_request_validator(self, params: dict, ctx: RequestContext) -> dict:
        missing = not_found(VALIDATOR_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            record = validator_of(api, params["requestValidatorId"])

            def name(change: patch.Change) -> None:
                if not change.value:
                    raise bad_request("Request Validator name cannot be blank")
                record["name"] = change.value

            rules = [
                patch.Rule("/name", ("replace",), name),
                patch.Rule(
                    "/validateRequestParameters",
                    ("replace",),
                    lambda c: record.__setitem__("validateRequestParameters", c.flag()),
                ),
                patch.Rule(
                    "/validateRequestBody", ("replace",), lambda c: record.__setitem__("validateRequestBody", c.flag())
                ),
            ]
            patch.apply(params.get("patchOperations"), rules, style="listed")
            return dict(record)

    async def delete_request_validator(self, params: dict, ctx: RequestContext) -> dict:
        missing = not_found(VALIDATOR_NOT_FOUND)
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"], missing) as api:
            record = validator_of(api, params["requestValidatorId"])
            for resource in api.resources.values():
                for verb, method in (resource.get("methods") or {}).items():
                    if method.get("requestValidatorId") == record["id"]:
                        raise conflict(
                            f"Cannot delete request validator '{record.get('name', record['id'])}', is referenced in "
                            f"method: {api.path_of(resource['id'])}/{verb}"
                        )
            del api.validators[record["id"]]
        return {}
