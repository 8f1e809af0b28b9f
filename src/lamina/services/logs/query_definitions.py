"""PutQueryDefinition, DescribeQueryDefinitions, DeleteQueryDefinition: saved Insights queries.

Kept in memory per account and region (the owner), each change appended to the store
(document kind "logs_query_definition", key "<account>:<region>:<id>") before the answer,
and loaded back at start.
"""

from __future__ import annotations

import uuid
from typing import Any

from ...errors import ServiceError
from ...store.base import Delete, Put, Store
from ..context import RequestContext
from .insights.api import check_language
from .paging import decode_token, encode_token
from .resources import invalid_parameter, not_found, now_ms

KIND = "logs_query_definition"
MAX_DEFINITIONS = 1000  # per account and region, as AWS's quota
DEFAULT_LIMIT = 1000
DEFINITION_NOT_FOUND = "The specified query definition does not exist."


def definition_key(account: str, region: str, definition_id: str) -> str:
    return f"{account}:{region}:{definition_id}"


class QueryDefinitionsApi:
    store: Store
    query_definitions: dict[str, dict[str, Any]]  # key -> document

    async def load_query_definitions(self) -> None:
        self.query_definitions = dict(await self.store.scan(KIND))

    def _definitions(self, ctx: RequestContext) -> dict[str, dict[str, Any]]:
        prefix = definition_key(ctx.account_id, ctx.region, "")
        return {key: doc for key, doc in self.query_definitions.items() if key.startswith(prefix)}

    async def put_query_definition(self, params: dict, ctx: RequestContext) -> dict:
        check_language(params)
        definition_id = params.get("queryDefinitionId")
        mine = self._definitions(ctx)
        if definition_id:
            if definition_key(ctx.account_id, ctx.region, definition_id) not in mine:
                raise not_found(DEFINITION_NOT_FOUND)
        else:
            if len(mine) >= MAX_DEFINITIONS:
                message = f"You have reached the maximum of {MAX_DEFINITIONS} query definitions."
                raise ServiceError("LimitExceededException", message, 400)
            definition_id = str(uuid.uuid4())
        if not params["queryString"].strip():
            raise invalid_parameter("queryString must not be empty.")
        doc: dict[str, Any] = {
            "queryLanguage": params.get("queryLanguage") or "CWLI",
            "queryDefinitionId": definition_id,
            "name": params["name"],
            "queryString": params["queryString"],
            "lastModified": now_ms(),
            "logGroupNames": list(params.get("logGroupNames") or []),
        }
        if params.get("parameters"):
            doc["parameters"] = list(params["parameters"])
        key = definition_key(ctx.account_id, ctx.region, definition_id)
        await self.store.write([Put(KIND, key, doc)])
        self.query_definitions[key] = doc
        return {"queryDefinitionId": definition_id}

    async def describe_query_definitions(self, params: dict, ctx: RequestContext) -> dict:
        check_language(params)
        prefix = params.get("queryDefinitionNamePrefix") or ""
        limit = params.get("maxResults") or DEFAULT_LIMIT
        cursor = decode_token(params.get("nextToken"), "after")
        after = tuple(cursor["after"]) if cursor else None
        docs = sorted(
            (doc for doc in self._definitions(ctx).values() if doc["name"].startswith(prefix)),
            key=lambda doc: (doc["name"], doc["queryDefinitionId"]),
        )
        if after is not None:
            docs = [doc for doc in docs if (doc["name"], doc["queryDefinitionId"]) > after]
        page = docs[:limit]
        result: dict[str, Any] = {"queryDefinitions": [dict(doc) for doc in page]}
        if len(docs) > limit:
            result["nextToken"] = encode_token({"after": [page[-1]["name"], page[-1]["queryDefinitionId"]]})
        return result

    async def delete_query_definition(self, params: dict, ctx: RequestContext) -> dict:
        key = definition_key(ctx.account_id, ctx.region, params["queryDefinitionId"])
        if key not in self.query_definitions:
            raise not_found(DEFINITION_NOT_FOUND)
        await self.store.write([Delete(KIND, key)])
        del self.query_definitions[key]
        return {"success": True}
