"""A file system's directory on the host: its size, and an access point's root directory
made as its CreationInfo says. Blocking file work: called through asyncio.to_thread."""

from __future__ import annotations

import os


def size_in_bytes(directory: str) -> int:
    """What the files take on disk (allocated blocks, directories included), as EFS meters
    what a file system stores."""
    total = 0
    stack = [directory]
    while stack:
        path = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += stat.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    try:
        total += os.stat(directory).st_blocks * 512
    except OSError:
        pass
    return total


def make_file_system(directory: str) -> None:
    """A new file system's root: owned by root, 0755, as EFS makes it."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)


def root_directory(directory: str, path: str, creation: dict | None) -> str:
    """The host directory of an access point's RootDirectory Path. As EFS does, a missing
    one is made (each missing part of the path) with CreationInfo's owner and permissions
    when it has them; without, it stays missing and mounting it fails."""
    parts = [part for part in path.split("/") if part]
    current = directory
    for part in parts:
        current = os.path.join(current, part)
        if creation is None or os.path.isdir(current):
            continue
        try:
            os.mkdir(current)
        except FileExistsError:
            continue
        os.chown(current, int(creation["OwnerUid"]), int(creation["OwnerGid"]))
        os.chmod(current, int(creation["Permissions"], 8))  # after mkdir: the umask does not apply
    return current
