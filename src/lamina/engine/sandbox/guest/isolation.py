"""Entering a sandbox's isolation, from inside the freshly forked instance process.

Runs in the zygote's child, before any function code: standard library only (ctypes for
the syscalls Python 3.11 does not wrap). The engine computes a plan (a plain dict, see
Plan below) and the child carries it out:

  as root on Linux                          otherwise (a warning is logged once, by the engine)
  - join the instance's cgroups (memory      - rlimits: data segment ~ MemorySize,
    = MemorySize, pids, cpu ~ memory)          file size ~ EphemeralStorage, no core files
  - unshare mount, PID, IPC, UTS namespaces
  - fork: the child is PID 1 of the new PID namespace; this process reports the child's
    pid and exits (the zygote, a child subreaper, adopts the instance)
  - private mounts: code read-only at /var/task, layers at /opt, a size-limited /tmp,
    the platform's data dir hidden, a fresh /proc
  - drop to an unprivileged uid/gid, no supplementary groups, no_new_privs

Plan keys: keep (the interpreter's directories, which must stay visible), closed
(directories the sandbox uid may not enter, covered: the kept paths under them come
back), cgroup_procs (cgroup.procs files to join first), cgroup_procs_late (to join
once set up: the CPU share), namespaces (bool), code_dir,
opt_dir (or None), binds ([[source, target], ...]: more read-only binds, e.g. a
runtime's own files at /var/runtime; the target is created if missing), runtime_files
(where such a bind put Lamina's own guest files, for the zygote's child to exec them),
tmp_mb, hide (paths to cover with an empty read-only tmpfs),
hide_late (hidden once the cgroups are joined), hostname, uid, gid, rlimits
({name: (soft, hard)}), mounts ([{source, target, uid, gid, read_only}]: file systems
mounted read-write under a /mnt of the sandbox's own, see mount_file_systems below).
"""

import ctypes
import ctypes.util
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_NO_NEW_PRIVS = 38

# The new mount API (Linux 5.12+), for idmapped mounts: the same numbers on every architecture.
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 1
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_IDMAP = 0x1, 0x2, 0x4, 0x00100000
MAX_ID = 4294967295  # (uid_t)-1, which is no id

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def prepare():
    """Load libc now, in the zygote, so that every fork inherits it: find_library runs
    `ldconfig -p` in a subprocess, which cost each new instance ~4 ms of its cold start."""
    _c()


class PidNamespaces:
    """For the zygote: fork an instance straight into a new PID namespace as its PID 1.

    unshare(CLONE_NEWPID) only decides where the caller's next child goes, and may be done
    once; setns() back to the zygote's own namespace afterwards allows the next one. This
    saves each instance a second fork (and a process that only opened the namespaces)."""

    def __init__(self):
        self.own = None  # an fd on our own PID namespace (no annotation: this runs on Python 3.9)
        try:
            self.own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.own = None

    def next_child_in_new(self):
        """True if the next fork lands in a new PID namespace (root only)."""
        if self.own is None:
            return False
        try:
            unshare(CLONE_NEWPID)
            return True
        except OSError:
            return False

    def back(self):
        assert self.own is not None, "only after next_child_in_new() said True"
        _check(_c().setns(ctypes.c_int(self.own), ctypes.c_int(CLONE_NEWPID)), "setns")

    def close(self):
        """In the child: the handle on the host's PID namespace must not reach a function."""
        if self.own is not None:
            os.close(self.own)
            self.own = None


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype, flags, data=None):
    _check(
        _c().mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def unshare(flags):
    _check(_c().unshare(ctypes.c_int(flags)), "unshare")


def prctl(option, value):
    _check(_c().prctl(ctypes.c_int(option), ctypes.c_ulong(value), 0, 0, 0), "prctl")


def sethostname(name):
    raw = name.encode()
    _check(_c().sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")


def bind(source, target, readonly):
    mount(source, target, None, MS_BIND | MS_REC)
    if readonly:
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _cover(path, size="4k"):
    """An empty tmpfs over `path` (writable for now: mount points may be made in it)."""
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=755")


def _seal(path):
    mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=755")


def _bring_back(kept):
    """Bind the interpreter's directories back wherever a cover hid them: a pyenv Python
    under /root (0700, closed to the sandbox's uid), or a venv under /tmp or under the
    hidden data dir. They were opened before the covers went on; once covered they are
    unreachable by name, but not through /proc/self/fd."""
    for path, fd, identity in kept:
        try:
            current = os.stat(path)
            if (current.st_dev, current.st_ino) == identity:
                continue
        except OSError:
            pass
        os.makedirs(path, mode=0o755, exist_ok=True)
        bind(f"/proc/self/fd/{fd}", path, readonly=True)


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _syscall(number, *args):
    result = _c().syscall(ctypes.c_long(number), *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def _swap(a, b):
    """An id map (uid_map lines) exchanging ids a and b, every other id itself."""
    if a == b:
        return f"0 0 {MAX_ID}\n"
    low, high = sorted((a, b))
    lines = [f"{b} {a} 1", f"{a} {b} 1"]
    for start, count in ((0, low), (low + 1, high - low - 1), (high + 1, MAX_ID - high - 1)):
        if count > 0:
            lines.append(f"{start} {start} {count}")
    return "\n".join(lines) + "\n"


def _user_namespace(uid_map, gid_map):
    """An fd on a new user namespace with these maps, to idmap a mount with. A child makes it
    (unshare would put this process in it) and says which pid it is on the host's /proc,
    still mounted here; this process, root outside it, writes its maps."""
    said, say = os.pipe()
    hold, release = os.pipe()
    child = os.fork()
    if child == 0:
        status = 1
        try:
            os.close(said)
            os.close(release)
            unshare(CLONE_NEWUSER)
            os.write(say, os.readlink("/proc/self").encode())
            os.read(hold, 1)
            status = 0
        finally:
            os._exit(status)
    os.close(say)
    os.close(hold)
    try:
        host_pid = os.read(said, 32).decode()
        if not host_pid.isdigit():
            raise OSError("could not make a user namespace for an idmapped mount")
        for name, lines in (("uid_map", uid_map), ("gid_map", gid_map)):
            with open(f"/proc/{host_pid}/{name}", "w") as handle:
                handle.write(lines)
        return os.open(f"/proc/{host_pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(said)
        os.close(release)
        os.waitpid(child, 0)


def _detached(entry, sandbox_uid, sandbox_gid):
    """A clone of the source's mount tree, not attached anywhere yet, with its attributes:
    nosuid, nodev, read-only if asked, and, for an access point's PosixUser, idmapped so that
    the sandbox's uid/gid act as that uid/gid there (the ids are swapped: whatever that uid
    already owns is the sandbox's to change)."""
    try:
        return _clone(entry, sandbox_uid, sandbox_gid)
    except OSError as error:
        raise OSError(
            error.errno, f"could not mount {entry['source']} at {entry['target']}: {error.strerror}"
        ) from None


def _clone(entry, sandbox_uid, sandbox_gid):
    flags = OPEN_TREE_CLONE | os.O_CLOEXEC | AT_RECURSIVE
    tree = _syscall(SYS_OPEN_TREE, ctypes.c_int(AT_FDCWD), entry["source"].encode(), ctypes.c_uint(flags))
    attr = _MountAttr(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (MOUNT_ATTR_RDONLY if entry.get("read_only") else 0))
    uid = entry.get("uid")
    gid = sandbox_gid if entry.get("gid") is None else entry["gid"]
    namespace = None
    try:
        if uid is not None and sandbox_uid is not None and (uid, gid) != (sandbox_uid, sandbox_gid):
            namespace = _user_namespace(_swap(sandbox_uid, uid), _swap(sandbox_gid, gid))
            attr.attr_set |= MOUNT_ATTR_IDMAP
            attr.userns_fd = namespace
        _syscall(
            SYS_MOUNT_SETATTR,
            ctypes.c_int(tree),
            b"",
            ctypes.c_uint(AT_EMPTY_PATH | AT_RECURSIVE),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        )
    except OSError:
        os.close(tree)
        raise
    finally:
        if namespace is not None:
            os.close(namespace)  # the mount holds on to it
    return tree


def mount_file_systems(plan):
    """The plan's file systems, each at its /mnt/<name>, on a /mnt of the sandbox's own (an
    empty tmpfs, sealed read-only later with the other covers): nothing of the host's /mnt
    shows, and no mount point is made on the host. The trees are cloned first, while their
    sources (under the platform's data dir, which gets hidden) can still be reached."""
    mounts = plan.get("mounts") or ()
    trees = [(_detached(entry, plan.get("uid"), plan.get("gid")), entry["target"]) for entry in mounts]
    os.makedirs("/mnt", mode=0o755, exist_ok=True)
    _cover("/mnt")
    for tree, target in trees:
        os.makedirs(target, mode=0o755, exist_ok=True)
        try:
            _syscall(
                SYS_MOVE_MOUNT,
                ctypes.c_int(tree),
                b"",
                ctypes.c_int(AT_FDCWD),
                target.encode(),
                ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH),
            )
        finally:
            os.close(tree)


def apply_rlimits(limits):
    import resource

    for name, (soft, hard) in (limits or {}).items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError):
            pass


def _report(report_fd, pid):
    if report_fd is not None:
        try:
            os.write(report_fd, str(pid).encode())
        finally:
            os.close(report_fd)


def enter(plan, report_fd=None):
    """Carry out the plan in this (forked, still root or not) process. Returns in the process
    that will run the function, after writing that process's host pid to `report_fd`."""
    # Memory and pids limits hold from the start; the CPU share is joined last, so that
    # setting up the sandbox is not billed to the function's small CPU quota.
    for procs in plan.get("cgroup_procs") or ():
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    late = plan.get("cgroup_procs_late") or ()

    if plan.get("namespaces") and plan.get("pid_namespace_made"):
        # The zygote forked us as PID 1 of a new PID namespace (PidNamespaces below): the
        # rest we open ourselves, and the zygote already knows our host pid.
        unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)
    elif plan.get("namespaces"):
        unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
        child = os.fork()
        if child:
            # This process only opened the namespaces: it says which process the instance is
            # (its pid as the host sees it) and goes. The zygote, a child subreaper, adopts the
            # instance and reports its exit; nothing stays behind to cost memory.
            _report(report_fd, child)
            os._exit(0)
        os.setsid()  # a session of its own: the engine kills the instance by its group
    if plan.get("namespaces"):
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        bind(plan["code_dir"], "/var/task", readonly=True)
        if plan.get("opt_dir"):
            bind(plan["opt_dir"], "/opt", readonly=True)
        else:
            mount("tmpfs", "/opt", "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=755")
        for source, target in plan.get("binds") or ():
            os.makedirs(target, mode=0o755, exist_ok=True)
            bind(source, target, readonly=True)
        kept = []
        for path in plan.get("keep") or ():  # opened now: the covers below may hide them
            fd = os.open(path, os.O_PATH | os.O_DIRECTORY)
            stat = os.fstat(fd)
            kept.append((path, fd, (stat.st_dev, stat.st_ino)))
        # Whatever lies under /tmp goes with the /tmp cover below (and under /mnt with its
        # cover, when file systems are mounted there).
        covered = ("/tmp/", "/mnt/") if plan.get("mounts") else ("/tmp/",)
        covers = [
            p
            for p in list(plan.get("closed") or ()) + list(plan.get("hide") or ())
            if os.path.isdir(p) and not (p + "/").startswith(covered)
        ]
        if plan.get("mounts"):
            mount_file_systems(plan)
            covers.append("/mnt")
        for path in covers:
            if path != "/mnt":
                _cover(path)
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(plan.get('tmp_mb', 512))}m,mode=1777")
        _bring_back(kept)
        for path in covers:
            _seal(path)
        for _, fd, _ in kept:
            os.close(fd)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        if plan.get("hostname"):
            sethostname(plan["hostname"])
        os.chdir("/var/task")
    elif plan.get("mounts"):
        raise OSError(
            "this function has FileSystemConfigs, and Lamina mounts file systems only in isolated "
            "sandboxes (the server running as root on Linux): see the EFS section of the manual"
        )

    for procs in late:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))  # read in our own PID namespace: 1 means us
    if plan.get("namespaces"):
        # Only now: the cgroup files were needed above.
        for path in plan.get("hide_late") or ():
            if os.path.isdir(path):
                mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=755")

    if not plan.get("namespaces"):
        _report(report_fd, os.getpid())
    elif report_fd is not None:
        os.close(report_fd)  # the PID 1 side: the opener reported us already
    apply_rlimits(plan.get("rlimits"))
    uid, gid = plan.get("uid"), plan.get("gid")
    if gid is not None and os.getegid() == 0:
        os.setgroups([])
        os.setgid(gid)
    if uid is not None and os.geteuid() == 0:
        os.setuid(uid)
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError:
        pass
