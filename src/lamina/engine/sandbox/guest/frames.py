"""The wire between the engine and a sandbox, the one definition both sides import.

The control socket carries length-prefixed frames:

    frame = length (4 bytes, big-endian, of what follows the type) + type (1 byte) + body
    body  = a JSON header line + b"\\n" + raw payload bytes

engine -> sandbox: INVOKE per invocation; GO to a process restored from a SnapStart
snapshot once it is in its cgroups. sandbox -> engine: READY once (init done, or the init
error), then RESULT or ERROR per invoke. The function's stdout and stderr are the log
socket; after each invocation the sandbox writes END_MARKER + request id + newline there,
so the engine knows it has every line of that invocation.

The zygote's channel carries one JSON message per SOCK_SEQPACKET datagram, at most
MAX_MESSAGE bytes. Standard library only: this file is loaded inside sandboxes.
"""

import struct

HEADER = struct.Struct(">IB")
INVOKE = ord("I")
READY = ord("R")
RESULT = ord("S")
ERROR = ord("E")
GO = ord("G")
END_MARKER = b"\x00\x01LAMINA_END "
MAX_MESSAGE = 1 << 20


def pack(kind, header, payload=b""):
    # One copy of the payload (a concatenation would make two).
    return b"".join((HEADER.pack(len(header) + 1 + len(payload), kind), header, b"\n", payload))


def recv_exact(sock, size):
    """Exactly `size` bytes from a blocking socket; EOFError if it closes first."""
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
