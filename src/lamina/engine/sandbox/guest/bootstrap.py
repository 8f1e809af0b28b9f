"""The managed Python runtime, inside the sandbox: import the handler, then serve invokes.

This file runs in the function's process. It imports only the standard library (never
Lamina, never anything heavy) so the function sees a clean interpreter, and so the zygote
can preload it. The wire to the engine is frames.py's. The zygote (zygote.py) loads it and
calls serve() in each instance it forks.
"""

import io
import json
import os
import resource
import sys
import time
import traceback

# frames.py, which the zygote loads (under this private name) before it loads this module.
_frames = sys.modules["_lamina_frames"]
HEADER, INVOKE, READY, RESULT, ERROR, END_MARKER = (
    _frames.HEADER,
    _frames.INVOKE,
    _frames.READY,
    _frames.RESULT,
    _frames.ERROR,
    _frames.END_MARKER,
)
pack = _frames.pack
_recv_exact = _frames.recv_exact

HERE = os.path.dirname(os.path.abspath(__file__))
# Where the runtime's packages (boto3, botocore, ...) are imported from: set by the zygote,
# which has them preloaded. None when the runtime offers none.
RUNTIME_PACKAGES = None


# --- the context object (the fields and methods of AWS's LambdaContext) -----------------


class CognitoIdentity:
    def __init__(self, identity):
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")


class ClientContext:
    def __init__(self, context):
        context = context or {}
        self.client = context.get("client")
        self.custom = context.get("custom")
        self.env = context.get("env")


_ENVIRONMENT_FIELDS = (
    ("log_group_name", "AWS_LAMBDA_LOG_GROUP_NAME"),
    ("log_stream_name", "AWS_LAMBDA_LOG_STREAM_NAME"),
    ("function_name", "AWS_LAMBDA_FUNCTION_NAME"),
    ("memory_limit_in_mb", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
    ("function_version", "AWS_LAMBDA_FUNCTION_VERSION"),
)


def environment_fields():
    """The context fields the runtime's environment gives; read once per instance (serve_loop)."""
    return {field: os.environ.get(name) for field, name in _ENVIRONMENT_FIELDS}


class LambdaContext:
    # From the environment (environment_fields):
    log_group_name: "str | None"
    log_stream_name: "str | None"
    function_name: "str | None"
    memory_limit_in_mb: "str | None"
    function_version: "str | None"

    def __init__(self, header, environment=None):
        self.aws_request_id = header["request_id"]
        self.__dict__.update(environment if environment is not None else environment_fields())
        self.invoked_function_arn = header.get("invoked_function_arn")
        self.tenant_id = header.get("tenant_id")
        self._deadline_ms = header["deadline_ms"]
        client_context = header.get("client_context")
        self.client_context = ClientContext(client_context) if client_context else None
        self.identity = CognitoIdentity(header.get("identity"))

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(str(message))
        sys.stdout.flush()

    def __repr__(self):
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},client_context={self.client_context},"
            f"identity={self.identity}])"
        )


# --- errors as the AWS Python runtime reports them --------------------------------------


class FaultError(Exception):
    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


def _error_payload(error, request_id=""):
    if isinstance(error, FaultError):
        return {
            "errorMessage": error.message,
            "errorType": error.error_type,
            "requestId": request_id,
            "stackTrace": error.stack,
        }
    stack = _user_stack(error)
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": stack,
    }


def _user_stack(error):
    """The traceback as AWS's runtime shows it: the function's frames (and the import
    machinery's, for an error at import), never the runtime's own."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(HERE + os.sep)]
    return traceback.format_list(frames)


def _log_error(payload):
    # The Python runtime logs "[ERROR] Type: message" and the traceback as one event.
    lines = [f"[ERROR] {payload['errorType']}: {payload['errorMessage']}"]
    if payload.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(frame.rstrip("\n") for frame in payload["stackTrace"])
    _write_log_event("\r".join("\r".join(line.split("\n")) for line in lines))


def _write_log_event(text):
    sys.stdout.flush()
    os.write(1, text.encode("utf-8", "replace") + b"\n")


_log_request = None  # {"id": the request being served}, read by the root logger's handler


def install_log_handler():
    """The root logger's handler on AWS: one log event per record, tab-separated fields.
    Installed once per process; a zygote installs it before forking, so every instance
    shares it instead of building its own."""
    global _log_request
    if _log_request is not None:
        return _log_request
    import logging

    request = {"id": None}

    class Handler(logging.Handler):
        def emit(self, record):
            try:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                millis = int(record.msecs)
                message = self.format(record)
                line = f"[{record.levelname}]\t{stamp}.{millis:03d}Z\t{request['id'] or ''}\t{message}"
                _write_log_event(line.replace("\n", "\r"))
            except Exception:
                self.handleError(record)

    handler = Handler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger().addHandler(handler)
    _log_request = request
    return request


# --- init and the invoke loop -----------------------------------------------------------


def load_handler(handler_spec, task_root):
    """Import "module.path.function" the way the AWS Python runtime does."""
    try:
        module_name, function_name = handler_spec.rsplit(".", 1)
    except ValueError as error:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{handler_spec}': {error}") from None
    module_name = module_name.replace("/", ".")
    if module_name.startswith("."):
        raise FaultError("Runtime.BadHandler", f"Cannot use relative import for handler '{handler_spec}'")
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise FaultError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}") from None
    except SyntaxError as error:
        raise FaultError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            _user_stack(error),
        ) from None
    function = getattr(module, function_name, None)
    if function is None:
        raise FaultError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


class _Frames:
    """Frames from the engine, read with one recv() each when they fit (a small invoke's
    header and payload arrive together; reading the 5-byte header alone cost a syscall)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def next(self):
        while len(self.buffer) < HEADER.size:
            self._fill()
        size, kind = HEADER.unpack_from(self.buffer)
        end = HEADER.size + size
        if len(self.buffer) < end:
            # A big payload: read the rest in one go rather than growing the buffer.
            self.buffer += _recv_exact(self.sock, end - len(self.buffer))
        body, self.buffer = self.buffer[HEADER.size : end], self.buffer[end:]
        return kind, body

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError
        self.buffer += chunk


def _max_memory_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) // 1024  # ru_maxrss is in KiB on Linux


def initialize(handler_spec, task_root):
    """The init phase: set up the runtime, import the handler. Returns (handler, error,
    init_ms, log_request); exactly one of handler and error is set."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    # sys.path as on AWS: the code, then the layers' python dirs, then the runtime's own.
    opt = os.environ.pop("_LAMINA_OPT", "/opt")
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    function_paths = [task_root, f"{opt}/python/lib/{version}/site-packages", f"{opt}/python"]
    # The function's PYTHONPATH, which an interpreter started for it would have read.
    function_paths += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for path in reversed(function_paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    _yield_shipped_packages(function_paths)
    try:
        os.chdir(task_root)
    except OSError:
        pass
    log_request = install_log_handler()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        import logging

        logging.getLogger().setLevel(level.upper())

    started = time.perf_counter()
    handler = None
    init_error = None
    try:
        handler = load_handler(handler_spec, task_root)
    except FaultError as error:
        init_error = _error_payload(error)
    except BaseException as error:  # an exception raised by the module's own init code
        init_error = _error_payload(error)
    init_ms = (time.perf_counter() - started) * 1000
    if init_error:
        _log_error(init_error)
    sys.stdout.flush()
    return handler, init_error, init_ms, log_request


_offered = None  # the top-level names of the runtime's packages (computed once, in the zygote)


def offered_packages():
    global _offered
    if _offered is None:
        listed: list = []
        if RUNTIME_PACKAGES:
            try:
                listed = os.listdir(RUNTIME_PACKAGES)
            except OSError:
                pass
        _offered = frozenset(n[:-3] if n.endswith(".py") else n for n in listed if n.partition(".")[0].isidentifier())
    return _offered


def _yield_shipped_packages(function_paths):
    """A function (or a layer) that ships its own boto3, botocore, urllib3... gets its own,
    as on AWS, not the runtime's preloaded ones: those are all dropped, so that the SDK is
    imported afresh from the function's paths first, the runtime's for the rest."""
    offered = offered_packages()
    if not offered:
        return
    for path in function_paths:
        try:
            names = os.listdir(path)
        except OSError:
            continue
        if offered.intersection(name[:-3] if name.endswith(".py") else name for name in names):
            for module in [m for m in sys.modules if m.partition(".")[0] in offered]:
                del sys.modules[module]
            return


def run_hooks(kind):
    """SnapStart's runtime hooks, registered through the snapshot_restore_py package.
    kind is "before_snapshot" or "after_restore". Returns an error payload or None."""
    registry = sys.modules.get("snapshot_restore_py")
    if registry is None:
        return None
    getter = getattr(registry, "get_before_snapshot" if kind == "before_snapshot" else "get_after_restore", None)
    if getter is None:
        return None
    for entry in list(getter()):
        func, args, kwargs = entry if isinstance(entry, tuple) else (entry, (), {})
        try:
            func(*args, **kwargs)
        except BaseException as error:
            failure = _error_payload(error)
            failure["errorType"] = (
                "Runtime.BeforeSnapshotError" if kind == "before_snapshot" else "Runtime.AfterRestoreError"
            )
            failure["errorMessage"] = f"{type(error).__name__}: {error}"
            _log_error(failure)
            return failure
    return None


def serve(control, handler_spec, task_root):
    """Init, report READY, then answer INVOKE frames until the engine hangs up."""
    handler, init_error, init_ms, log_request = initialize(handler_spec, task_root)
    ready = {"init_ms": init_ms, "error": init_error, "pid": os.getpid()}
    control.sendall(pack(READY, json.dumps(ready).encode()))
    if init_error:
        return
    serve_loop(control, handler, log_request)


def serve_loop(control, handler, log_request):
    """Answer INVOKE frames until the engine hangs up."""
    environment = environment_fields()
    frames = _Frames(control)
    while True:
        try:
            kind, body = frames.next()
        except EOFError:
            return
        if kind != INVOKE:
            continue
        raw_header, _, payload = body.partition(b"\n")
        header = json.loads(raw_header)
        request_id = header["request_id"]
        log_request["id"] = request_id
        context = LambdaContext(header, environment)
        trace_id = header.get("trace_id") or ""
        if os.environ.get("_X_AMZN_TRACE_ID") != trace_id:  # putenv only when it changes
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        kind = RESULT
        try:
            event = json.loads(payload) if payload else {}
            result = handler(event, context)
            try:
                output = json.dumps(result).encode("utf-8")
            except (TypeError, ValueError) as error:
                raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {error}") from None
        except FaultError as error:
            kind = ERROR
            failure = _error_payload(error, request_id)
            _log_error(failure)
            output = json.dumps(failure).encode()
        except Exception as error:
            kind = ERROR
            failure = _error_payload(error, request_id)
            _log_error(failure)
            output = json.dumps(failure).encode()
        except SystemExit as error:
            # sys.exit() in a handler ends the runtime, as on AWS: the engine sees the exit.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(error.code if isinstance(error.code, int) else 1)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        try:
            os.write(1, END_MARKER + request_id.encode() + b"\n")
        except OSError:
            pass  # the function closed its stdout: the engine stops waiting for the marker
        meta = b'{"max_memory_mb": %d}' % _max_memory_mb()
        control.sendall(pack(kind, meta, output))
        log_request["id"] = None
