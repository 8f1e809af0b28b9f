"""Per-instance cgroups: memory = MemorySize, CPU in proportion to memory, a pids cap.

The CPU share holds from the end of the init phase: an instance initializes at full speed,
as Lambda's do (a 128 MB function's init runs as fast as a 1,769 MB one's there; its
invocations do not), and the engine writes the quota once init is done (`throttle`).

Both layouts are supported: cgroup v1 (one hierarchy per controller under
/sys/fs/cgroup/{memory,pids,cpu}) and v2 (one unified tree with cgroup.controllers).
The engine creates an instance's groups before the fork and removes them after the
instance is gone; the child writes its own pid into the cgroup.procs files it is given.
"""

from __future__ import annotations

import logging
import os
import uuid

log = logging.getLogger("lamina.sandbox")

ROOT = "/sys/fs/cgroup"
MB_PER_VCPU = 1769  # Lambda: 1,769 MB of memory is one vCPU
CPU_PERIOD_US = 100_000
PIDS_MAX = 1024  # Lambda's limit on processes and threads


def _write(path: str, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _own_v1_path(controller: str) -> str:
    """Our own cgroup within a v1 controller (we nest under it, as we may not own the root)."""
    try:
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if controller in controllers.split(","):
                    return path
    except OSError:
        pass
    return "/"


class Cgroups:
    """Detects the layout once; creates and removes per-instance groups."""

    def __init__(self, prefix: str = "lamina") -> None:
        self.prefix = f"{prefix}-{os.getpid()}"
        self.version = 0
        self.available = False
        self._bases: dict[str, str] = {}
        if os.geteuid() != 0:
            return
        if os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
            self._init_v2()
        elif os.path.isdir(os.path.join(ROOT, "memory")):
            self._init_v1()

    def _init_v1(self) -> None:
        for controller in ("memory", "pids", "cpu"):
            mount = os.path.join(ROOT, controller)
            if not os.path.isdir(mount):
                continue
            parent = os.path.join(mount, _own_v1_path(controller).lstrip("/"))
            _remove_stale(parent)
            base = os.path.join(parent, self.prefix)
            try:
                os.makedirs(base, exist_ok=True)
            except OSError as error:
                log.warning("cannot create cgroup %s: %s", base, error)
                continue
            self._bases[controller] = base
        self.available = "memory" in self._bases
        self.version = 1 if self.available else 0

    def _init_v2(self) -> None:
        try:
            with open("/proc/self/cgroup") as handle:
                own = next(line.split("::", 1)[1].strip() for line in handle if line.startswith("0::"))
        except (OSError, StopIteration):
            own = "/"
        parent = os.path.join(ROOT, own.lstrip("/"))
        _remove_stale(parent)
        base = os.path.join(parent, self.prefix)
        try:
            os.makedirs(base, exist_ok=True)
            with open(os.path.join(base, "cgroup.controllers")) as handle:
                controllers = handle.read().split()
            _write(
                os.path.join(base, "cgroup.subtree_control"),
                " ".join(f"+{c}" for c in ("memory", "pids", "cpu") if c in controllers),
            )
        except OSError as error:
            log.warning("cannot use cgroup v2 at %s: %s", base, error)
            return
        self._bases["unified"] = base
        self.available = True
        self.version = 2

    def create(self, memory_mb: int) -> tuple[list[str], list[str], list[str], list[tuple[str, str]]]:
        """(cgroup.procs files to join at once, the CPU one to join once set up,
        directories to remove afterwards, the CPU quota to write once init is done)."""
        if not self.available:
            return [], [], [], []
        name = uuid.uuid4().hex[:16]
        limit = memory_mb * 1024 * 1024
        quota = max(int(CPU_PERIOD_US * memory_mb / MB_PER_VCPU), 1000)
        procs: list[str] = []
        late: list[str] = []
        dirs: list[str] = []
        quota_files: list[tuple[str, str]] = []
        try:
            if self.version == 2:
                path = os.path.join(self._bases["unified"], name)
                os.mkdir(path)
                dirs.append(path)
                _write(os.path.join(path, "memory.max"), str(limit))
                _try_write(os.path.join(path, "memory.swap.max"), "0")
                _try_write(os.path.join(path, "pids.max"), str(PIDS_MAX))
                if _try_write(os.path.join(path, "cpu.max"), f"max {CPU_PERIOD_US}"):
                    quota_files.append((os.path.join(path, "cpu.max"), f"{quota} {CPU_PERIOD_US}"))
                procs.append(os.path.join(path, "cgroup.procs"))
            else:
                for controller, base in self._bases.items():
                    path = os.path.join(base, name)
                    os.mkdir(path)
                    dirs.append(path)
                    if controller == "memory":
                        _write(os.path.join(path, "memory.limit_in_bytes"), str(limit))
                        _try_write(os.path.join(path, "memory.memsw.limit_in_bytes"), str(limit))
                        _try_write(os.path.join(path, "memory.swappiness"), "0")
                    elif controller == "pids":
                        _write(os.path.join(path, "pids.max"), str(PIDS_MAX))
                    elif controller == "cpu":
                        _write(os.path.join(path, "cpu.cfs_period_us"), str(CPU_PERIOD_US))
                        _write(os.path.join(path, "cpu.cfs_quota_us"), "-1")
                        quota_files.append((os.path.join(path, "cpu.cfs_quota_us"), str(quota)))
                    (late if controller == "cpu" else procs).append(os.path.join(path, "cgroup.procs"))
        except OSError as error:
            log.warning("cannot set up cgroup: %s", error)
            remove(dirs)
            return [], [], [], []
        return procs, late, dirs, quota_files

    def peak_memory_mb(self, dirs: list[str]) -> int:
        """The most memory the instance's processes used together, as the cgroup saw it."""
        for path in dirs:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                try:  # os.open/os.read: a third of open()'s cost, and this is on the invoke path
                    fd = os.open(os.path.join(path, name), os.O_RDONLY)
                    try:
                        return int(os.read(fd, 64)) // (1024 * 1024)
                    finally:
                        os.close(fd)
                except (OSError, ValueError):
                    continue
        return 0

    def oom_killed(self, dirs: list[str]) -> bool:
        """Did the memory limit kill something in this instance?"""
        for path in dirs:
            events = os.path.join(path, "memory.events")
            control = os.path.join(path, "memory.oom_control")
            try:
                if os.path.exists(events):
                    with open(events) as handle:
                        counts = dict(line.split() for line in handle if line.strip())
                    if int(counts.get("oom_kill", 0)) > 0:
                        return True
                elif os.path.exists(control):
                    with open(control) as handle:
                        counts = dict(line.split() for line in handle if line.strip())
                    if int(counts.get("oom_kill", 0)) > 0:
                        return True
            except (OSError, ValueError):
                continue
        return False

    def close(self) -> None:
        remove(list(self._bases.values()))


def _try_write(path: str, value: str) -> bool:
    try:
        _write(path, value)
        return True
    except OSError:
        return False


def _remove_stale(parent: str) -> None:
    """Groups left behind by a Lamina that was killed: empty them out of the tree."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        owner = name.rpartition("-")[2]
        if not name.startswith("lamina-") or not owner.isdigit() or os.path.exists(f"/proc/{owner}"):
            continue
        base = os.path.join(parent, name)
        try:
            remove(
                [os.path.join(base, child) for child in os.listdir(base) if os.path.isdir(os.path.join(base, child))]
                + [base]
            )
        except OSError:
            pass


def join(pid: int, procs_files: list[str]) -> None:
    """Put a process (by its host pid) into cgroups: done by the engine for restored
    SnapStart instances, which no longer have the privileges to do it themselves."""
    for path in procs_files:
        try:
            _write(path, str(pid))
        except OSError as error:
            log.warning("cannot move %d into %s: %s", pid, path, error)


def throttle(quota_files: list[tuple[str, str]]) -> None:
    """The instance's init is done: from now on it gets its CPU share only."""
    for path, value in quota_files:
        try:
            _write(path, value)
        except OSError as error:
            log.warning("cannot set the CPU quota %s: %s", path, error)


def remove(dirs: list[str]) -> list[str]:
    """Remove the groups; returns those still busy (a killed process not yet gone)."""
    busy = []
    for path in dirs:
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError:
            busy.append(path)
    return busy


async def remove_soon(dirs: list[str], attempts: int = 8) -> None:
    """Remove the groups, retrying while the kernel finishes with the killed processes."""
    import asyncio

    delay = 0.05
    for _ in range(attempts):
        dirs = remove(dirs)
        if not dirs:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
    log.warning("cgroups still busy, left for the next start to clean: %s", dirs[:3])
