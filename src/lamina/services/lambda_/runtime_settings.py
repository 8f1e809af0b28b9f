"""Put/GetFunctionRecursionConfig and Put/GetRuntimeManagementConfig: settings kept on the
function's record and answered as AWS answers them.

Recursion: Lamina does not trace calls between functions, queues and topics, so it cannot
detect a recursive loop; RecursiveLoop (Terminate by default, as on AWS) is kept and
answered, and stops nothing. Runtime management: Lamina runs each runtime on the host's
interpreter of that version (one runtime version), so Auto, FunctionUpdate and Manual are
kept and answered, with the runtime version ARN Manual names.
"""

from __future__ import annotations

from ...errors import invalid_parameter
from ...store.base import Put
from ..context import RequestContext
from .arns import function_arn, function_ref
from .state import LATEST, LambdaState


class RuntimeSettingsApi:
    state: LambdaState

    async def put_function_recursion_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = await self.state.function(ref)
        await self.state.write([Put("function", ref.key, dict(function, recursive_loop=params["RecursiveLoop"]))])
        return {"RecursiveLoop": params["RecursiveLoop"]}

    async def get_function_recursion_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        function = await self.state.function(ref)
        return {"RecursiveLoop": function.get("recursive_loop", "Terminate")}

    async def put_runtime_management_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        await self.state.record(ref)  # the function, version or alias must exist
        mode = params["UpdateRuntimeOn"]
        version_arn = params.get("RuntimeVersionArn")
        if mode == "Manual" and not version_arn:
            raise invalid_parameter("RuntimeVersionArn must be specified when UpdateRuntimeOn is Manual.")
        if mode != "Manual" and version_arn:
            raise invalid_parameter("RuntimeVersionArn can be specified only when UpdateRuntimeOn is Manual.")
        function = await self.state.function(ref)
        qualifier = ref.qualifier or LATEST
        settings = dict(function.get("runtime_management") or {})
        settings[qualifier] = {"UpdateRuntimeOn": mode, **({"RuntimeVersionArn": version_arn} if version_arn else {})}
        await self.state.write([Put("function", ref.key, dict(function, runtime_management=settings))])
        return dict(settings[qualifier], FunctionArn=function_arn(ref.region, ref.account, ref.name, ref.qualifier))

    async def get_runtime_management_config(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        function, _ = await self.state.record(ref)
        settings = (function.get("runtime_management") or {}).get(ref.qualifier or LATEST) or {
            "UpdateRuntimeOn": "Auto"
        }
        return dict(settings, FunctionArn=function_arn(ref.region, ref.account, ref.name, ref.qualifier))
