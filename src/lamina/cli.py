"""The `lamina` command: run the server, and talk to it.

    lamina --version
    lamina serve [--host H] [--port P] [--data-dir D]
    lamina up [--data-dir D]                  serve + deploy examples/ + print how to call them
    lamina invoke NAME [PAYLOAD|@file]        [--qualifier Q] [--async] [--tail]
    lamina ls
    lamina deploy-function DIR --name N --handler H [--runtime R] [--memory M] [--timeout T]
                           [--env K=V ...] [--role ARN]
    lamina logs NAME [--follow] [--since SECONDS]
    lamina reset                              every resource and message gone (POST /_lamina/reset)
    lamina runtimes [--prepare]               the runtimes this host can run, and on what

Client commands find the server from --endpoint, --port, LAMINA_ENDPOINT or LAMINA_PORT
(default http://127.0.0.1:4566). Human output by default, --json for scripts.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time

from .client import client
from .config import DEFAULT_ENDPOINT, client_endpoint, version
from .deploy.function import deploy_function

# --- the server ---------------------------------------------------------------------------


def _settings(args: argparse.Namespace):
    from .config import Settings

    settings = Settings()
    if getattr(args, "host", None):
        settings.host = args.host
    if getattr(args, "port", None):
        settings.port = args.port
    if getattr(args, "data_dir", None):
        settings.data_dir = args.data_dir
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    from .http.listen import CannotListen, adopt, listen

    settings = _settings(args)
    if args.parent is not None:  # started by `lamina up`: go when it goes
        from .up import follow_parent

        follow_parent(args.parent)
    # The port before anything else: a taken one is one line and exit 1, nothing started.
    try:
        listener = adopt(args.listen_fd) if args.listen_fd is not None else listen(settings.host, settings.port)
    except CannotListen as error:
        print(f"lamina: {error}", file=sys.stderr)
        return 1
    from .server import serve

    print(f"Lamina listening on {settings.endpoint_url} (data in {os.path.abspath(settings.data_dir)})", flush=True)
    serve(settings, listener)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from .up import up

    return up(_settings(args), args.examples)


# --- clients ------------------------------------------------------------------------------


def _client(args: argparse.Namespace, service: str = "lambda"):
    return client(service, client_endpoint(args.endpoint, args.port))


def _print(args: argparse.Namespace, document) -> None:
    print(json.dumps(document, indent=2, default=str))


def cmd_invoke(args: argparse.Namespace) -> int:
    payload = args.payload or "{}"
    if payload.startswith("@"):
        try:
            with open(payload[1:], "rb") as handle:
                data = handle.read()
        except OSError as error:  # a user's typo: one line, not a traceback
            print(f"lamina: cannot read {payload[1:]}: {error.strerror}", file=sys.stderr)
            return 1
    elif payload == "-":
        data = sys.stdin.buffer.read()
    else:
        data = payload.encode()
    params = {
        "FunctionName": args.name,
        "Payload": data,
        "InvocationType": "Event" if args.async_ else "RequestResponse",
    }
    if args.qualifier:
        params["Qualifier"] = args.qualifier
    if args.tail:
        params["LogType"] = "Tail"
    response = _client(args).invoke(**params)
    body = response["Payload"].read()
    if args.json:
        out = {
            "StatusCode": response["StatusCode"],
            "ExecutedVersion": response.get("ExecutedVersion"),
            "FunctionError": response.get("FunctionError"),
        }
        try:
            out["Payload"] = json.loads(body) if body else None
        except ValueError:
            out["Payload"] = body.decode("utf-8", "replace")
        if response.get("LogResult"):
            out["Log"] = base64.b64decode(response["LogResult"]).decode("utf-8", "replace")
        _print(args, out)
    else:
        if args.async_:
            print(f"accepted (HTTP {response['StatusCode']})")
        else:
            if response.get("LogResult"):
                sys.stderr.write(base64.b64decode(response["LogResult"]).decode("utf-8", "replace"))
            print(body.decode("utf-8", "replace"))
    return 1 if response.get("FunctionError") else 0


def cmd_ls(args: argparse.Namespace) -> int:
    functions = []
    for page in _client(args).get_paginator("list_functions").paginate():
        functions.extend(page["Functions"])
    if args.json:
        _print(args, functions)
        return 0
    if not functions:
        print("no functions")
        return 0
    rows = [("NAME", "RUNTIME", "HANDLER", "MEMORY", "TIMEOUT", "LAST MODIFIED")]
    rows += [
        (
            f["FunctionName"],
            f.get("Runtime", ""),
            f.get("Handler", ""),
            str(f.get("MemorySize")),
            str(f.get("Timeout")),
            f.get("LastModified", "")[:19],
        )
        for f in functions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    endpoint = client_endpoint(args.endpoint, args.port).rstrip("/")
    request = urllib.request.Request(f"{endpoint}/_lamina/reset", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError) as error:
        print(f"lamina: cannot reset the server at {endpoint}: {error}", file=sys.stderr)
        return 1
    if args.json:
        _print(args, answer)
    else:
        print(f"reset {endpoint}: every resource and message is gone ({answer.get('ms', 0)} ms)")
    return 0


def cmd_deploy_function(args: argparse.Namespace) -> int:
    if not os.path.isdir(args.directory):
        print(f"lamina: {args.directory} is not a directory", file=sys.stderr)
        return 2
    env = {}
    for item in args.env or []:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"lamina: --env takes KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        env[key] = value
    action, config = deploy_function(
        _client(args),
        args.directory,
        args.name,
        args.handler,
        args.runtime,
        args.memory,
        args.timeout,
        env if args.env else None,
        role=args.role,
        iam=_client(args, "iam"),
    )
    if args.json:
        _print(args, config)
    else:
        print(f"{action} {config['FunctionName']} ({config['CodeSize']} bytes, sha256 {config['CodeSha256']})")
        print(f"  arn: {config['FunctionArn']}")
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    logs = _client(args, "logs")
    group = args.name if args.name.startswith("/") else f"/aws/lambda/{args.name}"
    start = int((time.time() - args.since) * 1000) if args.since else 0
    seen: set[str] = set()
    token = None
    while True:
        params = {"logGroupName": group, "startTime": start}
        if token:
            params["nextToken"] = token
        try:
            page = logs.filter_log_events(**params)
        except logs.exceptions.ResourceNotFoundException:
            if not args.follow:
                print(f"lamina: no logs for {args.name} yet", file=sys.stderr)
                return 1
            page = {"events": []}
        for event in page["events"]:
            if event["eventId"] in seen:
                continue
            seen.add(event["eventId"])
            if args.json:
                print(json.dumps(event))
            else:
                stamp = time.strftime("%H:%M:%S", time.gmtime(event["timestamp"] / 1000))
                print(f"{stamp} {event['message']}")
        token = page.get("nextToken")
        if token:
            continue
        if not args.follow:
            return 0
        sys.stdout.flush()
        if page["events"]:
            start = page["events"][-1]["timestamp"]
        time.sleep(1.0)


def cmd_runtimes(args: argparse.Namespace) -> int:
    """What this host can run: each language runtime's interpreter (or what to install), and
    for Python the boto3 its functions get. --prepare installs the SDK sets older Pythons
    need now (with pip), rather than on their first cold start."""
    from .engine.runtimes import Runtimes
    from .engine.sandbox.runtime_packages import RuntimePackages, sdk_version

    settings = _settings(args)
    runtimes = Runtimes(settings.interpreters)
    packages = RuntimePackages(
        os.path.join(os.path.abspath(settings.data_dir), "runtime", "python"),
        os.path.join(settings.cache_dir, "runtime-packages"),
    )
    rows = []
    for runtime, interpreter in runtimes.all():
        row = {"runtime": runtime, "interpreter": None, "version": None, "found_by": None, "sdk": None}
        if interpreter is not None:
            row.update(interpreter=interpreter.path, version=interpreter.version, found_by=interpreter.source)
            if interpreter.python:
                major, minor = (int(n) for n in interpreter.version.split(".")[:2])
                if args.prepare:
                    packages.for_version((major, minor))
                row["sdk"] = sdk_version(packages, (major, minor))
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        if row["interpreter"] is None:
            print(f"{row['runtime']:<12}  -      {runtimes.missing(row['runtime'])}")
            continue
        sdk = f"  boto3 {row['sdk']}" if row["sdk"] else ""
        if row["runtime"].startswith("python") and not row["sdk"]:
            sdk = "  boto3 not installed yet (lamina runtimes --prepare)"
        print(f"{row['runtime']:<12}  {row['version']:<8} {row['interpreter']} ({row['found_by']}){sdk}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="lamina", description="Lamina: AWS Lambda on your own machines.")
    root.add_argument("--version", action="version", version=f"lamina {version()}")
    commands = root.add_subparsers(dest="command", required=True)

    def server_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", help="address to listen on (LAMINA_HOST, default 127.0.0.1)")
        p.add_argument("--port", type=int, help="port (LAMINA_PORT, default 4566)")
        p.add_argument("--data-dir", help="where state lives (LAMINA_DATA_DIR, default ./.lamina)")

    def client_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--endpoint", help=f"server URL (LAMINA_ENDPOINT, default {DEFAULT_ENDPOINT})")
        p.add_argument("--port", type=int, help="server on 127.0.0.1 at this port (LAMINA_PORT)")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = commands.add_parser("serve", help="run the server")
    server_flags(p)
    # From `lamina up`: the socket it bound, and its pid (the server stops when up dies).
    p.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    p.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)

    p = commands.add_parser("up", help="run the server with the example app deployed")
    server_flags(p)
    p.add_argument("--examples", default="examples", help="folder of example apps (default ./examples)")
    p.set_defaults(func=cmd_up)

    p = commands.add_parser("invoke", help="invoke a function")
    client_flags(p)
    p.add_argument("name")
    p.add_argument("payload", nargs="?", help="JSON payload, @file, or - for stdin (default {})")
    p.add_argument("--qualifier", help="version or alias")
    p.add_argument("--async", dest="async_", action="store_true", help="InvocationType=Event")
    p.add_argument("--tail", action="store_true", help="print the last 4 KB of the log to stderr")
    p.set_defaults(func=cmd_invoke)

    p = commands.add_parser("ls", help="list functions")
    client_flags(p)
    p.set_defaults(func=cmd_ls)

    p = commands.add_parser("deploy-function", help="zip a folder and create or update a function")
    client_flags(p)
    p.add_argument("directory")
    p.add_argument("--name", required=True)
    p.add_argument("--handler", required=True, help="module.function, e.g. app.handler")
    p.add_argument("--runtime", default="python3.12")
    p.add_argument("--memory", type=int, help="MemorySize in MB")
    p.add_argument("--timeout", type=int, help="Timeout in seconds")
    p.add_argument("--env", action="append", metavar="KEY=VALUE", help="environment variable (repeatable)")
    p.add_argument("--role", help="execution role ARN (default: a basic execution role, made if missing)")
    p.set_defaults(func=cmd_deploy_function)

    p = commands.add_parser("logs", help="print a function's logs")
    client_flags(p)
    p.add_argument("name", help="function name or log group name")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    p.add_argument("--since", type=float, help="only the last N seconds")
    p.set_defaults(func=cmd_logs)

    p = commands.add_parser("reset", help="delete every resource and message (for tests)")
    client_flags(p)
    p.set_defaults(func=cmd_reset)

    p = commands.add_parser("runtimes", help="the language runtimes this host can run, and on what")
    p.add_argument("--prepare", action="store_true", help="install the SDK older Pythons need now (pip)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_runtimes)
    return root


def main(argv: list[str] | None = None) -> int:
    root = parser()
    args, extra = root.parse_known_args(argv)
    # argparse settles an optional positional before reading the flags after it, so
    # `lamina invoke NAME --tail '{...}'` leaves the payload over: take it back.
    leftover_payload = len(extra) == 1 and (extra[0] == "-" or not extra[0].startswith("-"))
    if leftover_payload and getattr(args, "payload", "") is None:
        args.payload = extra.pop()
    if extra:
        root.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a client error: one clear line, not a traceback
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        if isinstance(error, EndpointConnectionError):
            print(f"lamina: cannot reach the server: {error}", file=sys.stderr)
            return 1
        if isinstance(error, BotoCoreError):
            # Refused before it was sent (e.g. --memory 64 fails botocore's own validation);
            # its message spans lines, the rule here is one.
            print(f"lamina: {' '.join(str(error).split())}", file=sys.stderr)
            return 1
        if isinstance(error, ClientError):
            info = error.response.get("Error", {})
            print(f"lamina: {info.get('Code')}: {info.get('Message')}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
