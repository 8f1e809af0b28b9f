"""The Node.js pool's mount helper: puts a function's code (and layers) into the mount
namespace of a pooled node process that is already isolated and waiting for a function.

A pooled process entered its namespaces before its function was known, with an empty
placeholder at /var/task. To give it the code, a tree cloned from the function's code dir
on the host (open_tree, OPEN_TREE_CLONE) is attached at /var/task inside the process's own
mount namespace (setns, then move_mount), and made read-only; the same for /opt; /tmp gets
the function's ephemeral storage size. setns into a mount namespace is refused to a
process with threads, which the server has: hence this small single-threaded helper.

Started by the engine (nodejs.py) as `python -I -S mounts.py` with one SOCK_SEQPACKET
socket on fd _LAMINA_MOUNTS_FD. Requests and answers are JSON, one per packet:

    {"pid", "task", "opt" (or null), "tmp_mb"}  ->  {"ok": true} or {"error": "..."}

Standard library only (ctypes for the syscalls Python does not wrap).
"""

import ctypes
import json
import os
import socket

CLONE_NEWNS = 0x00020000
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
MOVE_MOUNT_F_EMPTY_PATH = 0x4
SYS_OPEN_TREE = 428  # the same number on every architecture (asm-generic and x86 alike)
SYS_MOVE_MOUNT = 429

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _check(result, what):
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def open_tree(path):
    flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE
    return _check(libc.syscall(SYS_OPEN_TREE, AT_FDCWD, path.encode(), ctypes.c_uint(flags)), f"open_tree {path}")


def move_mount(tree, target):
    result = libc.syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, target.encode(), ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH))
    _check(result, f"move_mount {target}")


def mount(source, target, fstype, flags, data=None):
    result = libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    _check(result, f"mount {target}")


def setns(fd):
    _check(libc.setns(fd, CLONE_NEWNS), "setns")


def place(own, request):
    """Mount the request's trees inside its process's mount namespace, then come back."""
    trees = [(open_tree(request["task"]), "/var/task")]
    try:
        if request.get("opt"):
            trees.append((open_tree(request["opt"]), "/opt"))
        target = os.open(f"/proc/{int(request['pid'])}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
            try:
                for tree, at in trees:
                    move_mount(tree, at)  # on top of the placeholder (or the empty /opt)
                    mount(None, at, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
                if request.get("tmp_mb"):
                    mount(
                        None,
                        "/tmp",
                        None,
                        MS_REMOUNT | MS_NOSUID | MS_NODEV,
                        f"size={int(request['tmp_mb'])}m,mode=1777",
                    )
            finally:
                setns(own)
        finally:
            os.close(target)
    finally:
        for tree, _ in trees:
            os.close(tree)


def main():
    channel = socket.socket(fileno=int(os.environ.pop("_LAMINA_MOUNTS_FD")))
    own = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    while True:
        data = channel.recv(65536)
        if not data:
            return  # the engine went away
        try:
            place(own, json.loads(data))
            answer: dict = {"ok": True}
        except Exception as error:  # told to the engine, which falls back to a fresh node
            answer = {"error": f"{type(error).__name__}: {error}"}
        channel.sendall(json.dumps(answer).encode())


if __name__ == "__main__":
    main()
