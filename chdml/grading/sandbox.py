"""Confine a freshly forked kernel process before it runs a student's notebook.

:func:`enter` is called in the child right after the fork server forks it. What it does
depends on what the machine allows (:func:`capabilities`):

``"full"`` (Linux, started as root, namespaces available):
    a new mount and network namespace in which every file system is read-only except the
    kernel's working directory (``/tmp`` and ``/var/tmp`` are its ``.tmp`` folder) and a
    private, size-limited ``/dev/shm``; folders other users cannot enter (such as ``/root``) are replaced by empty
    ones holding only the Python installation the kernel needs; the instructor's secrets (the course's ``source/`` and ``autograder/``,
    the gradebook, the submissions folder, the output folder) are hidden behind empty
    read-only mounts; no network; the process then drops to its own unprivileged user id
    (one per kernel, so every process it leaves behind can be found and killed) with
    ``no_new_privs`` set.
``"basic"`` (anything else):
    its own session and working directory, ``TMPDIR`` inside it, resource limits. The
    student's code runs with the grader's user id and could write where that user can:
    run ``chdml grade`` as root (e.g. in a container) for the full sandbox.

In both: the kernel dies with its parent (``PR_SET_PDEATHSIG``), orphans of the student's
processes are re-parented to it (``PR_SET_CHILD_SUBREAPER``) so they can be killed, core
dumps are off, and file size, process count and data size are limited.
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import sys
from dataclasses import dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
O_PATH = getattr(os, "O_PATH", 0o10000000)

SPECIAL_FILE_SYSTEMS = {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "securityfs",
                        "debugfs", "tracefs", "pstore", "bpf", "configfs", "fusectl",
                        "hugetlbfs", "binfmt_misc", "autofs", "efivarfs", "rpc_pipefs",
                        "nsfs", "devtmpfs"}
SCRATCH_TO_WORKDIR = ("/tmp", "/var/tmp")
PRIVATE_TMPFS = ("/dev/shm", "/run/lock")


@dataclass
class Limits:
    """Resource limits of one kernel (``None`` = no limit)."""

    memory_bytes: int | None = 4 << 30
    file_bytes: int | None = 1 << 30
    processes: int | None = 2048
    tmp_bytes: int = 512 << 20  # the private /dev/shm


@dataclass
class SandboxSpec:
    """Everything :func:`enter` needs; sent as JSON from the grader to the fork server."""

    workdir: str
    level: str = "basic"
    uid: int | None = None
    gid: int | None = None
    hidden: list[str] = field(default_factory=list)
    readable: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    environment: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["limits"] = dict(self.limits.__dict__)
        return data

    @classmethod
    def from_json(cls, data: dict) -> SandboxSpec:
        data = dict(data)
        data["limits"] = Limits(**data["limits"])
        return cls(**data)


_libc = None


def _c() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                ctypes.c_ulong, ctypes.c_char_p]
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    encode = (lambda text: text.encode() if text is not None else None)
    _check(_c().mount(encode(source), encode(target), encode(fstype), flags, encode(data)),
           f"mount {target}")


def prctl(option: int, value: int) -> None:
    _check(_c().prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


def capabilities() -> str:
    """``"full"`` if this process can build the full sandbox (root on Linux), else ``"basic"``."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return "basic"
    pid = os.fork()
    if pid == 0:  # probe in a throw-away child: unshare must not change the caller
        try:
            _check(_c().unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return "full" if os.waitstatus_to_exitcode(status) == 0 else "basic"


def _mount_points() -> list[tuple[str, str, set[str]]]:
    """(mount point, file system type, per-mount options) of this mount namespace."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            left, right = line.split(" - ", 1)
            fields = left.split()
            target = fields[4].encode().decode("unicode_escape")
            points.append((target, right.split()[0], set(fields[5].split(","))))
    return points


def _remount_read_only() -> None:
    flag_of = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}
    for target, fstype, options in _mount_points():
        if fstype in SPECIAL_FILE_SYSTEMS or "ro" in options:
            continue
        keep = sum(flag for name, flag in flag_of.items() if name in options)
        try:
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EACCES, errno.EINVAL, errno.ENOENT):
                raise


def _needed_paths() -> list[str]:
    """Folders the kernel must be able to read: the interpreter, its libraries, chdml."""
    import chdml

    paths = [sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
             os.path.dirname(os.path.dirname(os.path.abspath(chdml.__file__)))]
    paths += [path for path in sys.path if path]
    found = sorted({os.path.realpath(path) for path in paths if os.path.isdir(path)})
    return [path for path in found  # drop paths inside another listed path
            if not any(path.startswith(other + "/") for other in found)]


def _closed_ancestor(path: str) -> str | None:
    """The outermost folder above ``path`` that other users cannot enter, if any."""
    current = "/"
    for part in [p for p in path.split("/") if p][:-1]:
        current = os.path.join(current, part)
        try:
            if not os.stat(current).st_mode & 0o001:
                return current
        except OSError:
            return None
    return None


def _cover(path: str, mount_points: list[str]) -> None:
    """Hide ``path`` behind an empty read-only tmpfs holding only (empty) folders for those
    ``mount_points`` that lie inside it."""
    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    for point in mount_points:
        if point.startswith(path + "/"):
            os.makedirs(point, mode=0o755, exist_ok=True)
    _mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
           "size=64k,mode=0755")


def _hide(paths, mount_points: list[str]) -> None:
    """Cover each folder of ``paths`` (see :func:`_cover`) and bind ``/dev/null`` over each
    file, outermost first."""
    for path in sorted(paths, key=lambda p: p.count("/")):
        if os.path.isdir(path) and not os.path.islink(path):
            _cover(path, mount_points)
        elif os.path.isfile(path):
            _mount("/dev/null", path, None, MS_BIND)


def _bind_read_only(handle: int, path: str) -> None:
    """Mount the folder open as ``handle`` (``O_PATH``) at ``path``, read-only."""
    _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND)
    _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _same_folder(path: str, handle: int) -> bool:
    try:
        here, there = os.stat(path), os.fstat(handle)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _build_namespace(spec: SandboxSpec) -> None:
    """The full sandbox's mounts (see the module doc); runs as root in the child.

    Order: a private copy of every mount, all read-only; handles on the folders that must
    stay reachable (the working directory, read-write; the Python installation and
    ``spec.readable``, read-only); then the covers (closed ancestors such as ``/root``, the
    hidden paths, ``/tmp`` bound to the working directory's ``.tmp``); then the reachable
    folders bound back where a cover hid them, and the hidden paths inside those covered
    again (a bind does not carry the covers inside it: a checkout under ``/tmp``).
    """
    _check(_c().unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _remount_read_only()
    readable = sorted(set(_needed_paths()) | {os.path.realpath(p) for p in spec.readable
                                             if os.path.isdir(p)})
    workdir = spec.workdir
    handles = {path: os.open(path, O_PATH | os.O_DIRECTORY) for path in [workdir, *readable]}
    points = list(handles)
    closed = sorted({ancestor for path in readable
                     if (ancestor := _closed_ancestor(path)) is not None})
    for path in closed:
        _cover(path, points)
    _hide(spec.hidden, points)
    scratch = os.path.join(workdir, ".tmp")
    scratch_handle = os.open(scratch, O_PATH | os.O_DIRECTORY)
    for path in SCRATCH_TO_WORKDIR:  # what a notebook writes to /tmp lands in its workdir
        if os.path.isdir(path):
            _mount(f"/proc/self/fd/{scratch_handle}", path, None, MS_BIND)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
            for point in points:
                if point.startswith(path + "/"):
                    os.makedirs(point, mode=0o755, exist_ok=True)
    os.close(scratch_handle)
    for path in PRIVATE_TMPFS:  # shared-memory files (multiprocessing): private, small
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV,
                   f"size={spec.limits.tmp_bytes},mode=1777")
    rebound = []
    for path in sorted(readable, key=lambda p: p.count("/")):
        if not _same_folder(path, handles[path]):
            _bind_read_only(handles[path], path)
            rebound.append(path)
    # a folder bound back (e.g. chdml's own checkout under /tmp, which the /tmp cover hid)
    # comes without the covers inside it: hide the instructor's files in it again
    hidden_again = [path for path in spec.hidden
                    if any(path.startswith(folder + "/") for folder in rebound)]
    _hide(hidden_again, points)
    for path in readable:  # and what must stay readable inside those (rare)
        if any(path.startswith(hidden + "/") for hidden in hidden_again):
            _bind_read_only(handles[path], path)
    _mount(f"/proc/self/fd/{handles[workdir]}", workdir, None, MS_BIND)
    _mount(None, workdir, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
    for handle in handles.values():
        os.close(handle)


def _set_limits(spec: SandboxSpec) -> None:
    limits = spec.limits
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.file_bytes:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    if limits.memory_bytes:
        # A backstop for one huge allocation (MemoryError at once); the grader's watchdog
        # enforces the limit on resident memory of the whole process tree.
        data = limits.memory_bytes + (1 << 30)
        resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    if limits.processes and spec.uid is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def enter(spec: SandboxSpec, parent_pid: int) -> None:
    """Confine the calling (freshly forked) process as ``spec`` says; see the module doc."""
    os.setsid()
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    if spec.level == "full":
        _build_namespace(spec)
    os.chdir(spec.workdir)
    _set_limits(spec)
    if spec.uid is not None:
        os.setgroups([])
        os.setgid(spec.gid if spec.gid is not None else spec.uid)
        os.setuid(spec.uid)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
    if os.getppid() != parent_pid:
        os._exit(1)
    os.environ.clear()
    os.environ.update(spec.environment)
    os.umask(0o077)

