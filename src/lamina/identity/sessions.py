"""Execution role sessions: the credentials each instance of a function gets, as Lambda gives
them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN of a session of its role,
named after the function), so that its own calls are evaluated against its role."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .principals import role_session
from .tokens import Sealer

# How long an instance's credentials last. The pool hands out no instance older than an hour
# less than that (app.py): a busy or provisioned one is replaced, with new credentials.
SESSION_TTL_S = 12 * 3600


class Function(Protocol):
    account: str
    name: str
    role: str


@dataclass(frozen=True)
class _Gone:
    name: str
    role_id: str
    arn: str


class ExecutionSessions:
    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer
        # The IAM service's role lookup, (account, role ARN) -> role or None; set by the
        # composition root once IAM exists.
        self.roles: Callable[[str, str], Any] | None = None

    def __call__(self, function: Function) -> tuple[str, str, str | None]:
        arn = function.role
        role = self.roles(function.account, arn) if self.roles is not None and arn else None
        if role is None:  # refused at CreateFunction; one deleted since keeps its name and arn
            role = _Gone(arn.rsplit("/", 1)[-1] or "lambda", "AROA" + "0" * 17, arn)
        session = role_session(function.account, role, function.name, time.time() + SESSION_TTL_S)
        issued = self.sealer.issue(session)
        return issued.access_key_id, issued.secret_access_key, issued.session_token
