"""ImportRestApi, PutRestApi (mode overwrite|merge, merge by default), GetExport
(exportType oas30|swagger; Accept application/json or application/yaml; parameters
extensions=integrations,authorizers,apigateway). The reading is openapi_import.py's, the
writing openapi_export.py's. ImportRestApi's `endpointConfigurationTypes` parameter picks the
endpoint type; `basepath` = ignore|prepend|split says what the definition's base path does.
"""

from __future__ import annotations

from ..api_gateway_errors import bad_request
from ..context import RequestContext
from .openapi_export import Exporter, rendered
from .openapi_import import Importer, parse_document
from .rest_apis import described, new_api, new_spec
from .stages import stage_of
from .state import RestApiState


def _warned(warnings: list[str], fail: bool) -> list[str]:
    if warnings and fail:
        raise bad_request("Warnings found during import:\n\t" + "\n\t".join(warnings))
    return warnings


class OpenApiApi:
    state: RestApiState

    async def import_rest_api(self, params: dict, ctx: RequestContext) -> dict:
        document = parse_document(params.get("body") or b"")
        parameters = params.get("parameters") or {}
        title = (document.get("info") or {}).get("title")
        if not title:
            raise bad_request(
                "Errors found during import:\n\tThe definition has no title (info.title): it names the API"
            )
        endpoint = parameters.get("endpointConfigurationTypes")
        spec = new_spec({"name": str(title), **({"endpointConfiguration": {"types": [endpoint]}} if endpoint else {})})
        api = new_api(self.state, ctx, spec, {})
        importer = Importer(api, document, parameters)
        importer.settings(api.spec, overwrite=True)
        warnings = _warned(importer.build(overwrite=False), bool(params.get("failOnWarnings")))
        if warnings:
            api.spec["warnings"] = warnings
        await self.state.create(api)
        return described(api)

    async def put_rest_api(self, params: dict, ctx: RequestContext) -> dict:
        document = parse_document(params.get("body") or b"")
        mode = params.get("mode") or "merge"
        if mode not in ("merge", "overwrite"):
            raise bad_request(f"Invalid mode specified: {mode}. Valid values are merge, overwrite")
        overwrite = mode == "overwrite"
        async with self.state.edit(ctx.account_id, ctx.region, params["restApiId"]) as api:
            importer = Importer(api, document, params.get("parameters") or {})
            importer.settings(api.spec, overwrite=overwrite)
            warnings = _warned(importer.build(overwrite=overwrite), bool(params.get("failOnWarnings")))
            if warnings:
                api.spec["warnings"] = warnings
            else:
                api.spec.pop("warnings", None)
        return described(self.state.api(ctx.account_id, ctx.region, params["restApiId"]), always_tags=True)

    async def get_export(self, params: dict, ctx: RequestContext) -> dict:
        export_type = params["exportType"]
        if export_type not in ("oas30", "swagger"):
            raise bad_request(f"Invalid export type specified: {export_type}. Valid values are oas30, swagger")
        api = self.state.api(ctx.account_id, ctx.region, params["restApiId"])
        stage = stage_of(api, params["stageName"])
        deployment = api.deployments.get(stage.get("deploymentId") or "")
        if deployment is None:
            raise bad_request("The stage has no deployment to export")
        extensions = {
            e.strip().lower() for e in (params.get("parameters") or {}).get("extensions", "").split(",") if e.strip()
        }
        wanted_yaml = "yaml" in (params.get("accepts") or "").lower()
        document = Exporter(api, stage, deployment, extensions).document(export_type, ctx.endpoint_url)
        suffix = "yaml" if wanted_yaml else "json"
        name = "swagger" if export_type == "swagger" else "oas30"
        result = {
            "contentDisposition": f'attachment; filename="{name}_{api.api_id}_{stage["stageName"]}.{suffix}"',
            "body": rendered(document, wanted_yaml),
        }
        if wanted_yaml:
            result["contentType"] = "application/yaml"
        return result
