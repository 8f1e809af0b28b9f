"""What this host lets a sandbox be, decided once, and the per-instance plan built from it.

As root on Linux with namespaces and cgroups: full isolation (see isolation.py). Otherwise
rlimits only, and a warning in the log, once. `isolation="0"` (LAMINA_ISOLATION=0) turns
isolation off (for debugging); "1" makes missing isolation an error.
"""

from __future__ import annotations

import logging
import os
import resource
import site
import subprocess
import sys
from dataclasses import dataclass, field

from ..spec import FunctionSpec
from . import guest
from .cgroups import Cgroups, throttle

log = logging.getLogger("lamina.sandbox")

SANDBOX_UID = 65534  # nobody
SANDBOX_GID = 65534
TASK_ROOT = "/var/task"


def _namespaces_work() -> bool:
    """Probe once: can we unshare mount+PID namespaces and mount a fresh /proc?"""
    probe = (
        f"import sys; sys.path.insert(0, {guest.DIRECTORY!r}); import isolation as i, os;"
        "i.unshare(i.CLONE_NEWNS | i.CLONE_NEWPID | i.CLONE_NEWIPC | i.CLONE_NEWUTS);"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    i.mount(None, '/', None, i.MS_REC | i.MS_PRIVATE); i.mount('proc', '/proc', 'proc', 0); os._exit(0)\n"
        "_, status = os.waitpid(pid, 0); sys.exit(os.waitstatus_to_exitcode(status))"
    )
    try:
        return subprocess.run([sys.executable, "-c", probe], timeout=10, capture_output=True).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _interpreter_dirs() -> list[str]:
    """The directories the sandboxed interpreter imports from (outermost ones only): its
    installation and site-packages, not the rest of this process's sys.path (the server's
    working directory, say), which functions have no business seeing."""
    candidates = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    candidates.update(os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p))
    ordered = sorted(candidates)
    return [p for p in ordered if not any(p.startswith(q.rstrip("/") + "/") for q in ordered if q != p)]


def _closed_ancestors(paths: list[str]) -> dict[str, list[str]]:
    """{the topmost ancestor that others may not search: [paths under it]}.

    The sandbox drops to uid nobody, which cannot walk into such a directory (a pyenv
    Python under /root, say): isolation.py covers it and binds these paths back."""
    closed: dict[str, list[str]] = {}
    for path in paths:
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:depth])
            try:
                searchable = os.stat(ancestor).st_mode & 0o001
            except OSError:
                break
            if not searchable:
                closed.setdefault(ancestor, []).append(path)
                break
    return closed


def _mounts(spec: FunctionSpec) -> list[dict]:
    """The plan's file systems (guest/isolation.py mounts them). The sandbox keeps running
    as nobody: an access point's PosixUser is applied by the mount, idmapped so that what
    nobody creates through it is owned by that uid/gid on the host, and nowhere else. The
    alternative, running the function as the PosixUser, would let it write whatever that
    uid owns on the host (a uid of 1000 is usually a person's)."""
    return [
        {"source": m.source, "target": m.target, "uid": m.uid, "gid": m.gid, "read_only": m.read_only}
        for m in spec.file_systems
    ]


@dataclass
class Placement:
    plan: dict
    cgroup_dirs: list[str]
    task_root: str
    opt_dir: str | None
    cpu_quota: list[tuple[str, str]] = field(default_factory=list)  # written once init is done


class SandboxHost:
    def __init__(self, hide: list[str] | None = None, isolation: str = "auto") -> None:
        wanted = isolation
        self.hide = [os.path.abspath(p) for p in (hide or [])]
        self.isolated = False
        self.cgroups: Cgroups | None = None
        if wanted == "0":
            log.warning("sandbox isolation is off (LAMINA_ISOLATION=0): functions run as plain processes")
            return
        reason = None
        if sys.platform != "linux":
            reason = "not Linux"
        elif os.geteuid() != 0:
            reason = "not running as root"
        elif not _namespaces_work():
            reason = "namespaces are not available"
        if reason is None:
            self.cgroups = Cgroups()
            if not self.cgroups.available:
                reason = "no usable cgroup hierarchy"
        if reason is not None:
            if wanted == "1":
                raise RuntimeError(f"LAMINA_ISOLATION=1 but sandboxes cannot be isolated: {reason}")
            log.warning(
                "sandboxes run without namespaces and cgroups (%s): memory, file size and "
                "process limits fall back to rlimits",
                reason,
            )
            self.cgroups = None
            return
        os.makedirs(TASK_ROOT, exist_ok=True)
        self.isolated = True
        # The interpreter itself must stay visible inside.
        prefix = os.path.realpath(sys.prefix)
        self.hide = [p for p in self.hide if not prefix.startswith(os.path.realpath(p))]
        self.interpreter_dirs = _interpreter_dirs()
        self.closed_dirs = sorted(_closed_ancestors(self.interpreter_dirs))

    def place(self, spec: FunctionSpec, opt_dir: str | None, interpreter_prefix: str | None = None) -> Placement:
        """An instance's plan. `interpreter_prefix`: the installation of the interpreter it
        runs on (a pyenv Python under /root, say), kept visible inside."""
        if not self.isolated or self.cgroups is None:
            data = (spec.memory_mb + 64) * 1024 * 1024
            size = spec.ephemeral_mb * 1024 * 1024
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            rlimits = {
                "RLIMIT_CORE": (0, 0),
                "RLIMIT_DATA": (data, data),
                "RLIMIT_FSIZE": (size, size),
                "RLIMIT_NOFILE": (min(1024, hard if hard > 0 else 1024), hard),
            }
            plan: dict = {"rlimits": rlimits}
            if spec.file_systems:
                # Nothing can be mounted without namespaces, and a function's code names its
                # LocalMountPath: the instance fails to start, saying why (guest/isolation.py).
                plan["mounts"] = _mounts(spec)
            return Placement(plan, [], spec.code_dir, opt_dir)
        procs, late, dirs, quota = self.cgroups.create(spec.memory_mb)
        plan = self.pooled_plan(spec.code_dir, interpreter_prefix, opt_dir, spec.ephemeral_mb)
        plan.update(cgroup_procs=procs, cgroup_procs_late=late, uid=SANDBOX_UID, gid=SANDBOX_GID)
        if spec.file_systems:
            plan["mounts"] = _mounts(spec)
        return Placement(plan, dirs, TASK_ROOT, "/opt" if opt_dir else None, quota)

    def pooled_plan(
        self, code_dir: str, interpreter_prefix: str | None = None, opt_dir: str | None = None, tmp_mb: int = 512
    ) -> dict:
        """An instance's namespaces and mounts (isolated hosts only), without its cgroups and
        its uid: place() adds those, and a process started ahead of any function (Node.js's
        pool) is given them when it is handed one."""
        keep, closed = self.interpreter_dirs, self.closed_dirs
        if interpreter_prefix and interpreter_prefix not in keep:
            keep = [*keep, interpreter_prefix]
            closed = sorted(set(closed) | set(_closed_ancestors([interpreter_prefix])))
        return {
            "namespaces": True,
            "code_dir": code_dir,
            "opt_dir": opt_dir,
            "keep": keep,
            "closed": closed,
            "tmp_mb": tmp_mb,
            "hide": self.hide,
            "hide_late": ["/sys/fs/cgroup"],
            "hostname": "169.254.100.1",
            "rlimits": {"RLIMIT_CORE": (0, 0), "RLIMIT_NOFILE": (1024, 1024)},
        }

    def place_snapshot(
        self, spec: FunctionSpec, opt_dir: str | None, interpreter_prefix: str | None = None
    ) -> Placement:
        """The per-version zygote of SnapStart: isolated like an instance."""
        return self.place(spec, opt_dir, interpreter_prefix)

    def place_restored(self, spec: FunctionSpec) -> Placement:
        """An instance forked from a snapshot: already inside the snapshot's namespaces;
        only its own cgroups are new (the engine moves it in)."""
        if not self.isolated or self.cgroups is None:
            return Placement({}, [], self._task_root(spec), None)
        procs, late, dirs, quota = self.cgroups.create(spec.memory_mb)
        return Placement({"join": procs + late}, dirs, TASK_ROOT, None, quota)

    def _task_root(self, spec: FunctionSpec) -> str:
        return TASK_ROOT if self.isolated else spec.code_dir

    def initialized(self, placement: Placement) -> None:
        """The instance's init is done: its CPU share holds from now on (cgroups.py)."""
        if placement.cpu_quota:
            throttle(placement.cpu_quota)

    def peak_memory_mb(self, placement: Placement) -> int:
        return self.cgroups.peak_memory_mb(placement.cgroup_dirs) if self.cgroups and placement.cgroup_dirs else 0

    def oom_killed(self, placement: Placement) -> bool:
        return bool(self.cgroups and placement.cgroup_dirs and self.cgroups.oom_killed(placement.cgroup_dirs))

    def close(self) -> None:
        if self.cgroups is not None:
            self.cgroups.close()
