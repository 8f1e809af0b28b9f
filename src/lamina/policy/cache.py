"""A decision cache for the request path.

A decision depends on the policies, the principal, the action, the resource and the context
keys the policies read -- nothing else. So the key is exactly that: the PolicySet's token (its
policy objects, which are replaced, never mutated, when a policy changes), the request's
principal fields, action and resource, and the values of only the keys the policies reference
(aws:SourceIp matters only to policies that test it; aws:CurrentTime, when referenced, makes
every second a new key, which keeps the cache right at the cost of its use). Bounded LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from .context import RequestContext
from .evaluation import Decision, PolicySet, evaluate


def _hashable(value: Any) -> Any:
    return tuple(value) if type(value) is list else value


class DecisionCache:
    def __init__(self, maxsize: int = 65536) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[Any, ...], Decision] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, request: RequestContext, policies: PolicySet) -> tuple[Any, ...]:
        keys = request.keys
        return (
            policies.token,
            request.principal_arn,
            request.principal_type,
            request.caller.issuer,
            request.is_root,
            request.principal_account,
            request.action_key,
            request.resource,
            request.resource_account,
            tuple([_hashable(keys.get(name)) for name in policies.referenced_keys]),
        )

    def evaluate(self, request: RequestContext, policies: PolicySet) -> Decision:
        key = self.key(request, policies)
        with self._lock:
            decision = self._entries.get(key)
            if decision is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return decision
        decision = evaluate(request, policies)
        with self._lock:
            self.misses += 1
            self._entries[key] = decision
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return decision

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
