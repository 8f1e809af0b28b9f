"""Lambda's fault names (the errorType of a failed invocation or init) and its error
payload. The runtime's own faults (a handler that raised) come from the sandbox as they
are; these are the ones the platform reports itself."""

from __future__ import annotations

import json

SANDBOX_TIMEDOUT = "Sandbox.Timedout"
RUNTIME_EXIT_ERROR = "Runtime.ExitError"
RUNTIME_OUT_OF_MEMORY = "Runtime.OutOfMemory"
RUNTIME_INIT_TIMEOUT = "Runtime.InitTimeout"
RUNTIME_INVALID_ENTRYPOINT = "Runtime.InvalidEntrypoint"
RUNTIME_UNKNOWN = "Runtime.Unknown"
RESPONSE_SIZE_TOO_LARGE = "Function.ResponseSizeTooLarge"
LAUNCH_ERROR = "Lamina.LaunchError"  # ours: the platform could not start a sandbox at all

# Faults after which the REPORT line carries a Status (and, but for a timeout, an Error Type).
SANDBOX_FAULTS = (SANDBOX_TIMEDOUT, RUNTIME_EXIT_ERROR, RUNTIME_OUT_OF_MEMORY)


def fault(error_type: str, message: str) -> dict[str, str]:
    """AWS's error document: {errorMessage, errorType}."""
    return {"errorMessage": message, "errorType": error_type}


def fault_payload(error_type: str, message: str) -> bytes:
    return json.dumps(fault(error_type, message)).encode()


def exit_error(reason: str) -> dict[str, str]:
    """The init or invoke error of a runtime process that exited: reason as exit_reason() says it."""
    return fault(RUNTIME_EXIT_ERROR, f"Runtime exited with error: {reason}")
