"""Application Auto Scaling's records, where they are kept, and how they are found.

    kind "aas_target"     key <target key>               a scalable target (its tags inside)
    kind "aas_policy"     key <target key>|<policy name>  a scaling policy
    kind "aas_scheduled"  key <target key>|<action name>  a scheduled action
    kind "aas_activity"   key <target key>|<start, ms>-<id>  a scaling activity

A target key is <account>:<region>:<namespace>:<dimension>:<resource id>; the resource id
comes last since it holds colons itself (function:NAME:QUALIFIER). Memory is the truth
(rebuilt from the store by load()); every change is written before the caller hears of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ... import ids
from ...errors import ServiceError
from ...store.base import Delete, Put, Store

TARGET, POLICY, SCHEDULED, ACTIVITY = "aas_target", "aas_policy", "aas_scheduled", "aas_activity"
# AWS keeps six weeks of scaling activities; Lamina keeps this many per target.
ACTIVITIES_KEPT = 200


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def object_not_found(message: str) -> ServiceError:
    return ServiceError("ObjectNotFoundException", message, 400)


def target_description(namespace: str, resource_id: str, dimension: str) -> str:
    return f"service namespace: {namespace}, resource ID: {resource_id}, scalable dimension: {dimension}"


@dataclass(frozen=True)
class TargetRef:
    account: str
    region: str
    namespace: str
    resource_id: str
    dimension: str

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.namespace}:{self.dimension}:{self.resource_id}"

    @property
    def function_name(self) -> str:
        """function:NAME:QUALIFIER -> NAME."""
        return self.resource_id.split(":")[1]

    @property
    def qualifier(self) -> str:
        return self.resource_id.split(":")[2]

    def describe(self) -> str:
        return target_description(self.namespace, self.resource_id, self.dimension)


def ref_of(key: str) -> TargetRef:
    # Every scalable dimension has three parts (lambda:function:ProvisionedConcurrency).
    account, region, namespace, service, kind, prop, resource_id = key.split(":", 6)
    return TargetRef(account, region, namespace, resource_id, f"{service}:{kind}:{prop}")


def target_arn(ref: TargetRef, target_id: str) -> str:
    return f"arn:aws:application-autoscaling:{ref.region}:{ref.account}:scalable-target/{target_id}"


def policy_arn(ref: TargetRef, policy_id: str, name: str) -> str:
    return (
        f"arn:aws:autoscaling:{ref.region}:{ref.account}:scalingPolicy:{policy_id}:"
        f"resource/{ref.namespace}/{ref.resource_id}:policyName/{name}"
    )


def scheduled_arn(ref: TargetRef, action_id: str, name: str) -> str:
    return (
        f"arn:aws:autoscaling:{ref.region}:{ref.account}:scheduledAction:{action_id}:"
        f"resource/{ref.namespace}/{ref.resource_id}:scheduledActionName/{name}"
    )


class AutoScalingState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.targets: dict[str, dict] = {}  # target key -> record
        self.policies: dict[str, dict] = {}  # policy key -> record
        self.scheduled: dict[str, dict] = {}  # action key -> record

    async def load(self) -> None:
        self.targets = dict(await self.store.scan(TARGET))
        self.policies = dict(await self.store.scan(POLICY))
        self.scheduled = dict(await self.store.scan(SCHEDULED))

    def reset(self) -> None:
        self.targets.clear()
        self.policies.clear()
        self.scheduled.clear()

    # --- targets ----------------------------------------------------------------------------

    def target(self, ref: TargetRef) -> dict | None:
        return self.targets.get(ref.key)

    async def put_target(self, ref: TargetRef, record: dict) -> None:
        await self.store.write([Put(TARGET, ref.key, record)])
        self.targets[ref.key] = record

    async def delete_target(self, ref: TargetRef) -> list[dict]:
        """The target, its policies and scheduled actions (AWS deletes them with it); the
        policies deleted, for their alarms."""
        prefix = ref.key + "|"
        policies = [k for k in self.policies if k.startswith(prefix)]
        actions = [k for k in self.scheduled if k.startswith(prefix)]
        ops = [Delete(TARGET, ref.key)]
        ops += [Delete(POLICY, k) for k in policies]
        ops += [Delete(SCHEDULED, k) for k in actions]
        await self.store.write(ops)
        self.targets.pop(ref.key, None)
        gone = [self.policies.pop(k) for k in policies]
        for key in actions:
            self.scheduled.pop(key, None)
        return gone

    def target_by_arn(self, arn: str) -> tuple[str, dict] | None:
        for key, record in self.targets.items():
            if record.get("ScalableTargetARN") == arn:
                return key, record
        return None

    # --- policies and scheduled actions ----------------------------------------------------

    def of_target(self, records: dict[str, dict], ref: TargetRef) -> list[dict]:
        prefix = ref.key + "|"
        return [record for key, record in sorted(records.items()) if key.startswith(prefix)]

    async def put_policy(self, ref: TargetRef, name: str, record: dict) -> None:
        key = f"{ref.key}|{name}"
        await self.store.write([Put(POLICY, key, record)])
        self.policies[key] = record

    async def delete_policy(self, ref: TargetRef, name: str) -> None:
        key = f"{ref.key}|{name}"
        await self.store.write([Delete(POLICY, key)])
        self.policies.pop(key, None)

    async def put_scheduled(self, ref: TargetRef, name: str, record: dict) -> None:
        key = f"{ref.key}|{name}"
        await self.store.write([Put(SCHEDULED, key, record)])
        self.scheduled[key] = record

    async def delete_scheduled(self, ref: TargetRef, name: str) -> None:
        key = f"{ref.key}|{name}"
        await self.store.write([Delete(SCHEDULED, key)])
        self.scheduled.pop(key, None)

    # --- activities (read from the store: they are many, and read rarely) --------------------

    async def put_activity(self, ref: TargetRef, activity: dict) -> str:
        """Record (or update) an activity; its key."""
        key = activity.get("_key") or f"{ref.key}|{int(activity['StartTime'] * 1000):015d}-{activity['ActivityId']}"
        activity["_key"] = key
        await self.store.write([Put(ACTIVITY, key, activity)])
        old = await self.store.scan(ACTIVITY, prefix=ref.key + "|")
        if len(old) > ACTIVITIES_KEPT:
            await self.store.write([Delete(ACTIVITY, k) for k, _ in old[: len(old) - ACTIVITIES_KEPT]])
        return key

    async def activities(self, prefix: str) -> list[dict]:
        return [doc for _, doc in await self.store.scan(ACTIVITY, prefix=prefix)]


def new_activity(ref: TargetRef, description: str, cause: str) -> dict:
    return {
        "ActivityId": ids.uuid4(),
        "ServiceNamespace": ref.namespace,
        "ResourceId": ref.resource_id,
        "ScalableDimension": ref.dimension,
        "Description": description,
        "Cause": cause,
        "StartTime": time.time(),
        "StatusCode": "InProgress",
    }
