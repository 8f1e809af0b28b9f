"""The Lambda service's records, their layout in the store, and the lookups every
operation shares.

    kind "function"          key "<account>:<region>:<name>"             the function and $LATEST
    kind "function_version"  key "<function key>:<version, 10 digits>"   a published version
    kind "function_alias"    key "<function key>:<alias name>"           an alias

A function document is {"config": <FunctionConfiguration of $LATEST>, "code": {sha, size},
"build": <id of this code and configuration>, "tags": {...}, "next_version": N,
"last_published": {...}, "serving": <the last good {config, code, build} while an update
has failed>}. Documents are cached in memory: this process is the only writer of its store.

States, as on AWS: CreateFunction and PublishVersion answer `State: Pending`, an update
`LastUpdateStatus: InProgress`; the record is prepared in the background right after the
answer (the runtime's interpreter found, the code and layers unpacked, the zygote started)
and settles to Active/Successful, or Failed with AWS's reason code. Whatever invokes the
record meanwhile waits for it to settle (resolve()); a Failed one refuses to run.
"""

from __future__ import annotations

import asyncio
import logging
import random
import zipfile
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ... import ids
from ...engine.facade import Engine
from ...engine.spec import FileSystemMount, FunctionSpec
from ...errors import ServiceError, not_found
from ...store.base import Delete, DeletePrefix, Op, Put, Store
from .arns import FunctionRef, function_arn
from .code import CodeStore

log = logging.getLogger("lamina.lambda")

LATEST = "$LATEST"
# AWS's words while a function or version is prepared, for a creation and an update alike.
PREPARING_REASON = "The function is being created."
PREPARING_CODE = "Creating"
_REASONS = ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode")
UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."
PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
NODE_RUNTIMES = ("nodejs18.x", "nodejs20.x", "nodejs22.x")
CUSTOM_RUNTIMES = ("provided.al2023", "provided.al2", "provided")


@dataclass
class Limits:
    sync_payload_bytes: int = 6 * 1024 * 1024
    async_payload_bytes: int = 1024 * 1024
    account_concurrency: int = 1000
    code_size_zipped: int = 50 * 1024 * 1024
    code_size_unzipped: int = 250 * 1024 * 1024
    total_code_size: int = 80 * 1024 * 1024 * 1024


def now_iso() -> str:
    """Lambda's LastModified format: 2026-11-25T10:29:14.123+0000."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def new_revision() -> str:
    return ids.uuid4()


def new_build() -> str:
    """The id of one function's code and configuration: the engine's instances are kept per
    build (a RevisionId also changes for a permission or a settled state, which need none)."""
    return ids.hex32()


def settled(config: dict) -> bool:
    return config.get("State") != "Pending" and config.get("LastUpdateStatus") != "InProgress"


def pending(config: dict) -> dict:
    """A configuration being created (a new function, a new version): AWS's Pending state."""
    config = {k: v for k, v in config.items() if k not in _REASONS and k != "LastUpdateStatus"}
    return dict(config, State="Pending", StateReason=PREPARING_REASON, StateReasonCode=PREPARING_CODE)


def in_progress(config: dict) -> dict:
    """A configuration being updated: AWS's LastUpdateStatus InProgress, with AWS's words."""
    return dict(
        config,
        LastUpdateStatus="InProgress",
        LastUpdateStatusReason=PREPARING_REASON,
        LastUpdateStatusReasonCode=PREPARING_CODE,
    )


def not_runnable(state: str) -> ServiceError:
    return ServiceError(
        "ResourceConflictException",
        f"The operation cannot be performed at this time. The function is currently in the following state: {state}",
        409,
    )


def version_key(function_key: str, version: str) -> str:
    return f"{function_key}:{int(version):010d}"


def check_revision(current: dict, revision: str | None) -> None:
    """A change that names a RevisionId applies only to that revision (of a function or an alias)."""
    if revision and revision != current["RevisionId"]:
        raise ServiceError(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
            412,
        )


class LambdaState:
    def __init__(self, store: Store, code: CodeStore, engine: Engine, limits: Limits | None = None) -> None:
        self.store = store
        self.code = code
        self.engine = engine
        self.limits = limits or Limits()
        self._functions: dict[str, dict | None] = {}
        self._versions: dict[str, dict | None] = {}
        self._aliases: dict[str, dict | None] = {}
        self._specs: dict[tuple[str, str], FunctionSpec] = {}
        self.event_configs: dict[str, dict | None] = {}  # event_invoke.py's cache
        # Records being prepared: (kind, key) -> set when its state has settled.
        self._settling: dict[tuple[str, str], asyncio.Event] = {}
        # How each record's preparation ended: (kind, key) -> (build, the config's new
        # members; None removes one). A write of a copy of that build taken before the
        # preparation ended gets them too, so an AddPermission racing it cannot undo it.
        self._outcomes: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self._preparations: set[asyncio.Future] = set()
        self._writing: dict[tuple[str, str], list[Any]] = {}  # record -> [writes under way, event when none]
        # Whether an execution role exists in the account and Lambda may assume it:
        # (account, role ARN) -> True/False. Set by the composition root (IAM's roles and
        # trust policies); None accepts any role ARN (tests and tools without IAM).
        self.role_assumable: Callable[[str, str], bool] | None = None
        # The first of `actions` an execution role may not perform on a resource (what an
        # event source mapping's poller does as the role), or None: (role ARN, actions,
        # resource ARN) -> action | None. Set by the composition root; None allows everything.
        self.role_denies: Callable[[str, tuple[str, ...], str], Awaitable[str | None]] | None = None
        # Whether the caller of a request may perform an action on another resource than the
        # one the call is on (a layer of another account named in a function's Layers):
        # (ctx, action, resource ARN) -> None, or AWS's denial message. Set by the composition root.
        self.may: Callable[[Any, str, str], Awaitable[str | None]] | None = None
        # EFS access points for FileSystemConfigs, from the composition root (None: no EFS):
        # whether an access point ARN exists, and what it mounts: (access point ARN, execution
        # role ARN, LocalMountPath, function name) -> FileSystemMount, raising Lambda's
        # EFSMountFailureException when it cannot be mounted.
        self.access_point_exists: Callable[[str], bool] | None = None
        self.mount_file_system: Callable[[str, str, str, str], Awaitable[FileSystemMount]] | None = None

    def reset(self) -> None:
        """Lamina's reset: every cached record and spec forgotten (the store is emptied beside it)."""
        self._functions.clear()
        self._versions.clear()
        self._aliases.clear()
        self._specs.clear()
        self.event_configs.clear()
        for task in self._preparations:
            task.cancel()
        self._preparations.clear()
        for event in self._settling.values():
            event.set()
        self._settling.clear()
        self._outcomes.clear()

    # --- reading ------------------------------------------------------------------------

    async def find_function(self, ref: FunctionRef) -> dict | None:
        key = ref.key
        if key not in self._functions:
            self._functions[key] = await self.store.get("function", key)
        return self._functions[key]

    async def function(self, ref: FunctionRef) -> dict:
        doc = await self.find_function(ref)
        if doc is None:
            raise not_found(f"Function not found: {ref.arn}")
        return doc

    async def find_version(self, ref: FunctionRef, version: str) -> dict | None:
        key = version_key(ref.key, version)
        if key not in self._versions:
            self._versions[key] = await self.store.get("function_version", key)
        return self._versions[key]

    async def find_alias(self, ref: FunctionRef, name: str) -> dict | None:
        key = f"{ref.key}:{name}"
        if key not in self._aliases:
            self._aliases[key] = await self.store.get("function_alias", key)
        return self._aliases[key]

    async def versions(self, ref: FunctionRef) -> list[dict]:
        return [doc for _, doc in await self.store.scan("function_version", prefix=ref.key + ":")]

    async def aliases(self, ref: FunctionRef) -> list[dict]:
        return [doc for _, doc in await self.store.scan("function_alias", prefix=ref.key + ":")]

    async def record(self, ref: FunctionRef) -> tuple[dict, dict]:
        """(function doc, the {config, code} record that ref's qualifier names), for reading
        and configuring: an alias names its main version, whatever its routing weights."""
        function = await self.function(ref)
        qualifier = ref.qualifier
        if qualifier is None or qualifier == LATEST:
            return function, function
        if not qualifier.isdigit():
            alias = await self.find_alias(ref, qualifier)
            if alias is None:
                raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, qualifier)}")
            qualifier = alias["FunctionVersion"]
            if qualifier == LATEST:
                return function, function
        version = await self.find_version(ref, qualifier)
        if version is None:
            raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, qualifier)}")
        return function, version

    async def resolve(self, ref: FunctionRef, qualifier: str | None) -> tuple[dict, dict]:
        """(function doc, the {config, code} record that `qualifier` names), for invoking.

        An alias resolves to its version, or by its routing weights to the additional one.
        A record still being prepared is waited for (Lamina's difference: AWS refuses an
        invoke then); $LATEST after a failed update is its last good code and configuration."""
        function, record = await self._resolve(ref, qualifier)
        if not settled(record["config"]):
            await self.settled(*_record_key(ref, record))
            function, record = await self._resolve(ref, qualifier)
        if record is function and record["config"].get("LastUpdateStatus") == "Failed" and function.get("serving"):
            record = function["serving"]
        return function, record

    async def settled(self, kind: str, key: str) -> None:
        """Once the record's preparation (if any is under way) has ended."""
        event = self._settling.get((kind, key))
        if event is not None:
            await event.wait()

    async def _resolve(self, ref: FunctionRef, qualifier: str | None) -> tuple[dict, dict]:
        function = await self.function(ref)
        if qualifier is None or qualifier == LATEST:
            return function, function
        if qualifier.isdigit():
            version = await self.find_version(ref, qualifier)
            if version is None:
                raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, qualifier)}")
            return function, version
        alias = await self.find_alias(ref, qualifier)
        if alias is None:
            raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, qualifier)}")
        target = alias["FunctionVersion"]
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        draw = random.random()
        for version, weight in weights.items():
            if draw < weight:
                target = version
                break
            draw -= weight
        if target == LATEST:
            return function, function
        version = await self.find_version(ref, target)
        if version is None:
            raise not_found(f"Function not found: {function_arn(ref.region, ref.account, ref.name, target)}")
        return function, version

    # --- writing ------------------------------------------------------------------------

    async def write(self, ops: list[Op]) -> None:
        if self._outcomes:
            ops = [self._with_outcome(op) for op in ops]
        # Records being written: a settling preparation waits for them (_prepare) so that
        # its copy includes what they wrote (a permission, a URL).
        writing = [(op.kind, op.key) for op in ops if isinstance(op, Put) and op.kind in _PREPARED]
        for record in writing:
            self._writing.setdefault(record, [0, asyncio.Event()])[0] += 1
        try:
            await self.store.write(ops)
        finally:
            for record in writing:
                entry = self._writing[record]
                entry[0] -= 1
                if entry[0] == 0:
                    del self._writing[record]
                    entry[1].set()
        for op in ops:
            cache = {
                "function": self._functions,
                "function_version": self._versions,
                "function_alias": self._aliases,
            }.get(op.kind)
            if cache is None:
                continue
            if isinstance(op, Put):
                cache[op.key] = op.doc
            elif isinstance(op, Delete):
                cache[op.key] = None
            elif isinstance(op, DeletePrefix):
                for key in [k for k in cache if k.startswith(op.prefix)]:
                    cache[key] = None
        for op in ops:
            if isinstance(op, DeletePrefix) and op.kind == "event_invoke_config":
                for key in [k for k in self.event_configs if k.startswith(op.prefix)]:
                    self.event_configs[key] = None

    def _with_outcome(self, op: Op) -> Op:
        if not isinstance(op, Put) or op.kind not in ("function", "function_version"):
            return op
        outcome = self._outcomes.get((op.kind, op.key))
        if outcome is None or outcome[0] != op.doc.get("build") or settled(op.doc["config"]):
            return op
        return Put(op.kind, op.key, dict(op.doc, config=_apply(op.doc["config"], outcome[1])))

    # --- preparing a record: Pending/InProgress until it settles ---------------------------

    def prepare_soon(self, kind: str, key: str, build: str, updating: bool = False) -> None:
        """Prepare the record (written already, Pending or InProgress) in the background, then
        settle its state. Call it right after the write, before anything else awaits."""
        event = asyncio.Event()
        previous = self._settling.get((kind, key))
        self._settling[(kind, key)] = event
        task = asyncio.ensure_future(self._prepare(kind, key, build, updating, event, previous))
        self._preparations.add(task)
        task.add_done_callback(self._preparations.discard)

    async def _prepare(
        self, kind: str, key: str, build: str, updating: bool, event: asyncio.Event, previous: asyncio.Event | None
    ) -> None:
        try:
            if previous is not None:
                await previous.wait()
            doc = await self._read(kind, key)
            if doc is None or doc.get("build") != build:
                return  # deleted, or replaced by a newer build that settles itself
            version = doc["config"].get("Version", LATEST)
            failure = await self._readiness(doc, version)
            while (kind, key) in self._writing:  # a write under way: settle its result, not the copy before it
                await self._writing[(kind, key)][1].wait()
            doc = await self._read(kind, key)
            if doc is None or doc.get("build") != build:
                return
            changes = _outcome(doc["config"], failure, updating)
            self._outcomes[(kind, key)] = (build, changes)
            await self.write([Put(kind, key, dict(doc, config=_apply(doc["config"], changes)))])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("preparing %s %s failed", kind, key)
        finally:
            event.set()
            if self._settling.get((kind, key)) is event:
                del self._settling[(kind, key)]

    async def _read(self, kind: str, key: str) -> dict | None:
        cache = self._functions if kind == "function" else self._versions
        if key not in cache:
            cache[key] = await self.store.get(kind, key)
        return cache[key]

    async def _readiness(self, doc: dict, version: str) -> tuple[str, str] | None:
        """What keeps the record from running, as (AWS's reason code, reason), or None once
        it is ready: its runtime's interpreter found, its code and layers unpacked."""
        runtime = doc["config"].get("Runtime") or ""
        missing = await self.engine.runtime_missing(runtime)
        if missing:
            return "InvalidRuntime", missing
        try:
            await self.spec(doc, version)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError):
            return "InvalidZipFileException", UNZIP_FAILED
        except OSError as error:
            return "InternalError", f"Lamina could not unpack the function's code: {error}"
        except ServiceError as error:
            # A file system that cannot be mounted fails its invokes (EFSMountFailureException),
            # not the function's state, as on AWS: it may be mountable by the next invoke.
            if error.code != "EFSMountFailureException":
                raise
        self.engine.prepare(runtime)  # its zygote starts now, not on the first cold start
        return None

    def check_runnable(self, record: dict) -> None:
        """A Failed record refuses to run, with AWS's error."""
        config = record["config"]
        if config.get("State") == "Failed":
            raise not_runnable("Failed")

    def forget_outcomes(self, key: str) -> None:
        """The function (key) and its versions are deleted."""
        for entry in [e for e in self._outcomes if e[1] == key or e[1].startswith(key + ":")]:
            del self._outcomes[entry]

    # --- handing a function to the engine -------------------------------------------------

    async def spec(self, record: dict, version: str) -> FunctionSpec:
        """The engine's view of a function version; cached, since a revision never changes."""
        key = (record.get("build") or record["config"]["RevisionId"], version)
        spec = self._specs.get(key)
        if spec is None:
            if len(self._specs) > 10000:
                self._specs.clear()
            spec = self._specs[key] = await self._build_spec(record, version)
        return spec

    async def _build_spec(self, record: dict, version: str) -> FunctionSpec:
        config = record["config"]
        arn = config["FunctionArn"] if version == LATEST else config["FunctionArn"].rsplit(":", 1)[0]
        _, _, _, region, account, _, name = arn.split(":")[:7]
        code_dir = await self.code.directory(record["code"]["sha"])
        layer_shas = [layer["code_sha"] for layer in config.get("Layers") or () if layer.get("code_sha")]
        opt_dir = await self.code.merged(layer_shas) if layer_shas else None
        logging_config = config.get("LoggingConfig") or {}
        mounts = []
        for fs_config in config.get("FileSystemConfigs") or ():
            if self.mount_file_system is None:
                break
            mounts.append(
                await self.mount_file_system(
                    fs_config["Arn"], config.get("Role") or "", fs_config["LocalMountPath"], name
                )
            )
        return FunctionSpec(
            account=account,
            region=region,
            name=name,
            function_arn=arn,
            version=version,
            revision=record.get("build") or config["RevisionId"],
            runtime=config.get("Runtime", ""),
            handler=config.get("Handler", ""),
            memory_mb=config.get("MemorySize", 128),
            timeout_s=config.get("Timeout", 3),
            code_dir=code_dir,
            opt_dir=opt_dir,
            environment=dict((config.get("Environment") or {}).get("Variables") or {}),
            ephemeral_mb=(config.get("EphemeralStorage") or {}).get("Size", 512),
            log_group=logging_config.get("LogGroup") or f"/aws/lambda/{name}",
            log_format=logging_config.get("LogFormat", "Text"),
            architectures=tuple(config.get("Architectures") or ("x86_64",)),
            snap_start=version != LATEST and snap_start_applies(config),
            role=config.get("Role") or "",
            file_systems=tuple(mounts),
        )

    async def retire(self, ref: FunctionRef, keep_build: str | None = None) -> None:
        """Old instances go once the code or configuration they were started with changes."""
        keep = f"{ref.arn}:{LATEST}#{keep_build}" if keep_build else None
        await self.engine.retire_stale(f"{ref.arn}:{LATEST}#", keep)

    async def retire_all(self, ref: FunctionRef) -> None:
        await self.engine.retire(f"{ref.arn}:")


_PREPARED = ("function", "function_version")  # the kinds a preparation settles


def _record_key(ref: FunctionRef, record: dict) -> tuple[str, str]:
    version = record["config"].get("Version", LATEST)
    if version == LATEST:
        return "function", ref.key
    return "function_version", version_key(ref.key, version)


def _outcome(config: dict, failure: tuple[str, str] | None, updating: bool) -> dict[str, Any]:
    """The members a settled preparation sets (None: removes), in AWS's words. A version has
    no LastUpdateStatus; a function that failed to be created is Failed both ways."""
    version = config.get("Version", LATEST) != LATEST
    changes: dict[str, Any] = dict.fromkeys(_REASONS)
    changes["RevisionId"] = new_revision()  # AWS gives a settled function a new revision
    if failure is None:
        changes["State"] = "Active"
        if not version:
            changes["LastUpdateStatus"] = "Successful"
        return changes
    code, reason = failure
    if updating:
        changes.update(LastUpdateStatus="Failed", LastUpdateStatusReason=reason, LastUpdateStatusReasonCode=code)
        for name in ("State", "StateReason", "StateReasonCode"):
            changes[name] = config.get(name)
        return changes
    changes.update(State="Failed", StateReason=reason, StateReasonCode=code)
    if not version:
        changes.update(LastUpdateStatus="Failed", LastUpdateStatusReason=reason, LastUpdateStatusReasonCode=code)
    return changes


def _apply(config: dict, changes: dict[str, Any]) -> dict:
    merged = dict(config, **changes)
    return {k: v for k, v in merged.items() if v is not None}


SNAPSTART_RUNTIMES = ("python3.12", "python3.13", "python3.14")


def snap_start_applies(config: dict[str, Any]) -> bool:
    return (config.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions" and config.get(
        "Runtime"
    ) in SNAPSTART_RUNTIMES


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if v is not None}
