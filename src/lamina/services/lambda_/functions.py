"""CreateFunction, GetFunction(Configuration), ListFunctions, UpdateFunctionCode,
UpdateFunctionConfiguration, DeleteFunction."""

from __future__ import annotations

import base64
import json
from typing import Any

from ...engine.spec import RESERVED
from ...errors import ServiceError, conflict, invalid_parameter, not_found
from ...store.base import Delete, DeletePrefix, Put
from ..context import RequestContext
from .arns import function_arn, function_ref, parse_function
from .code_signing import check_deployment
from .file_systems import check_file_systems, file_system_configs, vpc_config
from .layers import resolve_layers
from .provisioned import Provisioning, drop_provisioned_configs
from .state import (
    CUSTOM_RUNTIMES,
    LATEST,
    NODE_RUNTIMES,
    PYTHON_RUNTIMES,
    SNAPSTART_RUNTIMES,
    LambdaState,
    check_revision,
    in_progress,
    new_build,
    new_revision,
    now_iso,
    pending,
    version_key,
)
from .versions import prepare_version, publish

MAX_TIMEOUT_S = 900
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
MAX_PAGE_ITEMS = 50  # ListFunctions and ListVersionsByFunction return at most 50, whatever MaxItems says
ENV_LIMIT_BYTES = 4096
# Newer models give DeleteFunction a StatusCode output (202 while a durable function drains);
# without it the serializer falls back to the model's 200, but AWS answers a delete with 204.
_DELETED = {"StatusCode": 204}
SUPPORTED_RUNTIMES = PYTHON_RUNTIMES + NODE_RUNTIMES + CUSTOM_RUNTIMES


def _check_runtime(runtime: str | None, package_type: str) -> None:
    if package_type == "Image":
        raise invalid_parameter("Lamina runs Zip packages; PackageType Image is not supported.")
    if runtime is None:
        raise invalid_parameter(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        )
    if runtime not in SUPPORTED_RUNTIMES:
        raise invalid_parameter(
            f"The runtime parameter of {runtime} is not supported by Lamina. "
            f"Supported runtimes: {', '.join(SUPPORTED_RUNTIMES)}."
        )


def _check_timeout(timeout: int | None) -> None:
    if timeout is not None and not 1 <= timeout <= MAX_TIMEOUT_S:
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_TIMEOUT_S}",
            400,
        )


def _check_memory(memory_mb: int | None) -> None:
    # Newer botocore models allow up to 32,768 MB (for other compute types), so the model's
    # own check lets 10,241+ through; a function's limit is still 10,240 MB.
    if memory_mb is not None and not MIN_MEMORY_MB <= memory_mb <= MAX_MEMORY_MB:
        bound = (
            f"greater than or equal to {MIN_MEMORY_MB}"
            if memory_mb < MIN_MEMORY_MB
            else f"less than or equal to {MAX_MEMORY_MB}"
        )
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{memory_mb}' at 'memorySize' failed to satisfy constraint: "
            f"Member must have value {bound}",
            400,
        )


def _check_environment(environment: dict | None) -> None:
    variables = (environment or {}).get("Variables") or {}
    reserved = sorted(k for k in variables if k in RESERVED)
    if reserved:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > ENV_LIMIT_BYTES:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f"provided exceeded the 4KB limit. String measured: {measured}"
        )


def _check_snap_start(snap_start: dict | None, runtime: str | None) -> None:
    if (snap_start or {}).get("ApplyOn") == "PublishedVersions" and runtime not in SNAPSTART_RUNTIMES:
        raise invalid_parameter(f"{runtime} is not supported for SnapStart enabled functions.")


def _check_ephemeral(storage: dict | None) -> None:
    if storage and not 512 <= storage.get("Size", 512) <= 10240:
        raise invalid_parameter("EphemeralStorage Size must be between 512 and 10240 MB.")


class FunctionsApi:
    state: LambdaState
    provisioning: Provisioning

    def _check_role(self, role: str, ctx: RequestContext) -> None:
        """The execution role must exist in the function's account and trust Lambda."""
        check = self.state.role_assumable
        if check is not None and not check(ctx.account_id, role):
            raise invalid_parameter("The role defined for the function cannot be assumed by Lambda.")

    def _serving(self, function: dict) -> dict | None:
        """What $LATEST runs if the update about to start fails: AWS keeps the function's
        previous code and configuration available then."""
        config = function["config"]
        if config.get("LastUpdateStatus") == "Failed":
            return function.get("serving")
        if config.get("State") == "Failed":
            return None
        return {"config": config, "code": function["code"], "build": function.get("build")}

    async def _check_runnable(self, runtime: str | None) -> None:
        """A runtime Lamina supports but this host has no interpreter for is refused here,
        saying what to install (a first hour without surprises), rather than leaving a
        function that can only fail. One whose interpreter goes away later is Failed
        (InvalidRuntime) when it is prepared."""
        missing = await self.state.engine.runtime_missing(runtime) if runtime else None
        if missing:
            raise invalid_parameter(missing)

    async def create_function(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        if ref.qualifier:
            raise invalid_parameter("Qualifier is not allowed when creating a function.")
        package_type = params.get("PackageType", "Zip")
        _check_runtime(params.get("Runtime"), package_type)
        await self._check_runnable(params.get("Runtime"))
        if not params.get("Handler"):
            raise invalid_parameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
            )
        _check_timeout(params.get("Timeout"))
        _check_memory(params.get("MemorySize"))
        _check_environment(params.get("Environment"))
        _check_ephemeral(params.get("EphemeralStorage"))
        _check_snap_start(params.get("SnapStart"), params.get("Runtime"))
        self._check_role(params["Role"], ctx)
        check_file_systems(self.state, params.get("FileSystemConfigs"), vpc_config(params.get("VpcConfig")), False)
        code_params = params.get("Code") or {}
        zip_bytes = code_params.get("ZipFile")
        if zip_bytes is None and not code_params.get("S3Bucket"):
            if code_params.get("ImageUri"):
                raise invalid_parameter("Lamina accepts function code as a zip (Code.ZipFile or Code.S3Bucket/S3Key).")
            raise invalid_parameter("Please provide a source for function code.")
        if zip_bytes is not None and len(zip_bytes) > self.state.limits.code_size_zipped:
            raise ServiceError(
                "RequestEntityTooLargeException",
                f"Request must be smaller than {self.state.limits.code_size_zipped} bytes "
                "for the CreateFunction operation",
                413,
            )
        if await self.state.find_function(ref) is not None:
            raise conflict(f"Function already exist: {ref.name}")
        await check_deployment(self.state, params.get("CodeSigningConfigArn"), ref.name)
        code = await self.state.code.package(ctx, code_params)
        arn = ref.arn
        snap = params.get("SnapStart") or {}
        logging = params.get("LoggingConfig") or {}
        config: dict[str, Any] = {
            "FunctionName": ref.name,
            "FunctionArn": arn,
            "Runtime": params.get("Runtime"),
            "Role": params["Role"],
            "Handler": params.get("Handler"),
            "CodeSize": code.size,
            "Description": params.get("Description", ""),
            "Timeout": params.get("Timeout", 3),
            "MemorySize": params.get("MemorySize", 128),
            "LastModified": now_iso(),
            "CodeSha256": code.sha256_b64,
            "Version": LATEST,
            "Environment": {"Variables": (params.get("Environment") or {}).get("Variables") or {}}
            if params.get("Environment")
            else None,
            "TracingConfig": {"Mode": (params.get("TracingConfig") or {}).get("Mode", "PassThrough")},
            "RevisionId": new_revision(),
            "Layers": await resolve_layers(self.state, params.get("Layers"), ctx),
            "PackageType": package_type,
            "Architectures": params.get("Architectures") or ["x86_64"],
            "EphemeralStorage": {"Size": (params.get("EphemeralStorage") or {}).get("Size", 512)},
            "SnapStart": {"ApplyOn": snap.get("ApplyOn", "None"), "OptimizationStatus": "Off"},
            "LoggingConfig": {
                "LogFormat": logging.get("LogFormat", "Text"),
                "LogGroup": logging.get("LogGroup") or f"/aws/lambda/{ref.name}",
                **({"ApplicationLogLevel": logging["ApplicationLogLevel"]} if "ApplicationLogLevel" in logging else {}),
                **({"SystemLogLevel": logging["SystemLogLevel"]} if "SystemLogLevel" in logging else {}),
            },
            "DeadLetterConfig": params.get("DeadLetterConfig"),
            "KMSKeyArn": params.get("KMSKeyArn"),
            "RuntimeVersionConfig": {
                "RuntimeVersionArn": f"arn:aws:lambda:{ref.region}::runtime:lamina-{params.get('Runtime')}"
            },
            "VpcConfig": vpc_config(params.get("VpcConfig")),
            "FileSystemConfigs": file_system_configs(params.get("FileSystemConfigs")),
        }
        build = new_build()
        doc = {
            "config": pending({k: v for k, v in config.items() if v is not None}),
            "code": {"sha": code.sha256_hex, "size": code.size},
            "build": build,
            "tags": params.get("Tags") or {},
            "next_version": 1,
        }
        if params.get("CodeSigningConfigArn"):
            doc["code_signing_config"] = params["CodeSigningConfigArn"]
        ops = [Put("function", ref.key, doc)]
        result = doc["config"]
        if params.get("Publish"):
            version_doc, ops_publish = publish(ref, doc, description=None)
            ops.extend(ops_publish)
            # AWS answers with version 1's configuration (under the unqualified ARN). $LATEST's
            # config captured above is stale anyway: publishing gave $LATEST a new RevisionId.
            result = dict(version_doc["config"], FunctionArn=arn)
        await self.state.write(ops)
        # Pending until Lamina has it ready (interpreter, code, layers), in the background.
        self.state.prepare_soon("function", ref.key, build)
        if params.get("Publish"):
            prepare_version(self.state, ref, version_doc)
        return result

    async def get_function(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        function, record = await self.state.record(ref)
        location = f"{ctx.endpoint_url}/_lamina/code/{record['code']['sha']}.zip"
        result: dict[str, Any] = {
            "Configuration": record["config"],
            "Code": {"RepositoryType": "S3", "Location": location},
        }
        if function.get("tags"):
            result["Tags"] = function["tags"]
        if function.get("reserved_concurrency") is not None:
            result["Concurrency"] = {"ReservedConcurrentExecutions": function["reserved_concurrency"]}
        return result

    async def get_function_configuration(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        _, record = await self.state.record(ref)
        return record["config"]

    async def list_functions(self, params: dict, ctx: RequestContext) -> dict:
        prefix = f"{ctx.account_id}:{ctx.region}:"
        limit = params.get("MaxItems") or 50
        if not 1 <= limit <= 10000:
            raise invalid_parameter("MaxItems must be between 1 and 10000.")
        limit = min(limit, MAX_PAGE_ITEMS)
        after = None
        if params.get("Marker"):
            try:
                after = base64.urlsafe_b64decode(params["Marker"].encode()).decode()
            except Exception:
                raise invalid_parameter("Invalid Marker.") from None
        all_versions = params.get("FunctionVersion") == "ALL"
        rows = await self.state.store.scan("function", prefix=prefix, after=after, limit=limit + 1)
        functions = []
        for _key, doc in rows[:limit]:
            functions.append(doc["config"])
            if all_versions:
                ref = parse_function(doc["config"]["FunctionName"], ctx.account_id, ctx.region)
                functions.extend(v["config"] for v in await self.state.versions(ref))
        result: dict[str, Any] = {"Functions": functions}
        if len(rows) > limit:
            result["NextMarker"] = base64.urlsafe_b64encode(rows[limit - 1][0].encode()).decode()
        return result

    async def update_function_code(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        # Lamina's difference: AWS refuses an update while another is in progress; Lamina's
        # preparation takes milliseconds, so the update waits for it instead.
        await self.state.settled("function", ref.key)
        function = await self.state.function(ref)
        check_revision(function["config"], params.get("RevisionId"))
        if params.get("ZipFile") is None and not params.get("S3Bucket"):
            raise invalid_parameter("Please provide a source for function code.")
        await check_deployment(self.state, function.get("code_signing_config"), ref.name)
        code = await self.state.code.package(ctx, params)
        if params.get("DryRun"):
            return dict(function["config"], CodeSha256=code.sha256_b64, CodeSize=code.size)
        config = in_progress(
            dict(
                function["config"],
                CodeSha256=code.sha256_b64,
                CodeSize=code.size,
                LastModified=now_iso(),
                RevisionId=new_revision(),
            )
        )
        if params.get("Architectures"):
            config["Architectures"] = params["Architectures"]
        build = new_build()
        doc = dict(
            function,
            config=config,
            code={"sha": code.sha256_hex, "size": code.size},
            build=build,
            serving=self._serving(function),
        )
        ops = [Put("function", ref.key, doc)]
        result = config
        if params.get("Publish"):
            version_doc, publish_ops = publish(ref, doc, description=None)
            ops.extend(publish_ops)
            # AWS answers with the new version's configuration; `config` would carry a RevisionId
            # that publishing has already replaced on $LATEST.
            result = version_doc["config"]
        await self.state.write(ops)
        self.state.prepare_soon("function", ref.key, build, updating=True)
        if params.get("Publish"):
            prepare_version(self.state, ref, version_doc)
        await self.state.retire(ref, keep_build=build)
        return result

    async def update_function_configuration(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx)
        await self.state.function(ref)
        await self.state.settled("function", ref.key)  # as update_function_code
        function = await self.state.function(ref)
        check_revision(function["config"], params.get("RevisionId"))
        config = dict(function["config"])
        if "Runtime" in params:
            _check_runtime(params["Runtime"], config.get("PackageType", "Zip"))
            await self._check_runnable(params["Runtime"])
        _check_timeout(params.get("Timeout"))
        _check_memory(params.get("MemorySize"))
        _check_environment(params.get("Environment"))
        _check_ephemeral(params.get("EphemeralStorage"))
        _check_snap_start(
            params.get("SnapStart", config.get("SnapStart")), params.get("Runtime", config.get("Runtime"))
        )
        if "Role" in params:
            self._check_role(params["Role"], ctx)
        self._file_systems(params, config)
        for name in ("Role", "Handler", "Description", "Timeout", "MemorySize", "Runtime", "KMSKeyArn"):
            if name in params:
                config[name] = params[name]
        if "Environment" in params:
            config["Environment"] = {"Variables": (params["Environment"] or {}).get("Variables") or {}}
        if "Layers" in params:
            config["Layers"] = await resolve_layers(self.state, params["Layers"], ctx)
            if not config["Layers"]:
                del config["Layers"]
        if "DeadLetterConfig" in params:
            config["DeadLetterConfig"] = params["DeadLetterConfig"]
        if "TracingConfig" in params:
            config["TracingConfig"] = {"Mode": params["TracingConfig"].get("Mode", "PassThrough")}
        if "EphemeralStorage" in params:
            config["EphemeralStorage"] = {"Size": params["EphemeralStorage"].get("Size", 512)}
        if "SnapStart" in params:
            config["SnapStart"] = {"ApplyOn": params["SnapStart"].get("ApplyOn", "None"), "OptimizationStatus": "Off"}
        if "LoggingConfig" in params:
            config["LoggingConfig"] = dict(config.get("LoggingConfig") or {}, **params["LoggingConfig"])
        if "Runtime" in params:
            config["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": f"arn:aws:lambda:{ref.region}::runtime:lamina-{params['Runtime']}"
            }
        config = in_progress(dict(config, LastModified=now_iso(), RevisionId=new_revision()))
        build = new_build()
        doc = dict(function, config=config, build=build, serving=self._serving(function))
        await self.state.write([Put("function", ref.key, doc)])
        self.state.prepare_soon("function", ref.key, build, updating=True)
        await self.state.retire(ref, keep_build=build)
        return config

    def _file_systems(self, params: dict, config: dict) -> None:
        """UpdateFunctionConfiguration's FileSystemConfigs and VpcConfig, checked together
        (either may change) and applied to `config`."""
        if "FileSystemConfigs" not in params and "VpcConfig" not in params:
            return
        configs = params["FileSystemConfigs"] if "FileSystemConfigs" in params else config.get("FileSystemConfigs")
        vpc = vpc_config(params["VpcConfig"]) if "VpcConfig" in params else config.get("VpcConfig")
        check_file_systems(self.state, configs, vpc, removing_vpc="VpcConfig" in params and vpc is None)
        for name, value in (("FileSystemConfigs", file_system_configs(configs)), ("VpcConfig", vpc)):
            if value is None:
                config.pop(name, None)
            else:
                config[name] = value

    async def delete_function(self, params: dict, ctx: RequestContext) -> dict:
        ref = function_ref(params, ctx, params.get("Qualifier"))
        await self.state.function(ref)
        if ref.qualifier and ref.qualifier != LATEST:
            if not ref.qualifier.isdigit():
                raise invalid_parameter("Deletion of aliases is not supported through DeleteFunction; use DeleteAlias.")
            version = await self.state.find_version(ref, ref.qualifier)
            if version is None:
                raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, ref.qualifier)}")
            users = [
                a["Name"]
                for a in await self.state.aliases(ref)
                if a["FunctionVersion"] == ref.qualifier
                or ref.qualifier in ((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
            ]
            if users:
                raise conflict(
                    f"Unable to delete version because the following aliases reference it: [{', '.join(users)}]"
                )
            await self.state.write([Delete("function_version", version_key(ref.key, ref.qualifier))])
            await drop_provisioned_configs(self.provisioning, ref, [ref.qualifier])
            await self.state.engine.retire(f"{ref.arn}:{ref.qualifier}#")
            return dict(_DELETED)
        if ref.qualifier == LATEST:
            raise invalid_parameter("$LATEST version cannot be deleted without deleting the function.")
        await self.state.write(
            [
                Delete("function", ref.key),
                DeletePrefix("function_version", ref.key + ":"),
                DeletePrefix("function_alias", ref.key + ":"),
                DeletePrefix("event_invoke_config", ref.key + ":"),
                DeletePrefix("provisioned_config", ref.key + ":"),
            ]
        )
        self.state.forget_outcomes(ref.key)
        await self.state.retire_all(ref)
        self.state.engine.set_reserved(ref.arn, None)
        self.state.engine.set_provisioned(ref.arn, {})
        return dict(_DELETED)
