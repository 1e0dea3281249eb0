"""A warm fork server for Jupyter kernels: pay for importing TensorFlow once per batch.

Starting a Jupyter kernel and importing NumPy, nibabel and TensorFlow takes about 8 s, more
than most notebooks need to run. The fork server is a process that imports those modules
once (imports only: TensorFlow starts no threads until its first operation, so forking
afterwards is safe) and then, on request, forks a child that confines itself
(:func:`chdml.grading.sandbox.enter`) and becomes a real ``ipykernel`` kernel listening on
the connection file the grader wrote. A fork takes milliseconds; the kernel is ready about
0.3 s later, and the grader asks for the next one while the current notebook runs.

Protocol (JSON lines): the grader writes ``{"op": "spawn", "id": ..., "sandbox": {...},
"connection_file": ..., "log_file": ...}`` to the server's stdin; the server answers
``{"op": "spawned", "id": ..., "pid": ...}`` and later ``{"op": "exited", "pid": ...,
"returncode": ...}`` (negative: killed by that signal). When its stdin closes (the grader
exited or died) it kills every kernel and exits. The server stays single-threaded (so
forking stays safe); it adopts orphaned grandchildren (subreaper) and kills them.

Run as ``python -m chdml.grading.forkserver MODULE ...`` (the modules to preload).
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

DEFAULT_PRELOAD = ("numpy", "scipy", "nibabel", "matplotlib", "tensorflow", "keras",
                   "chdml", "chdml.grading.kernelside", "chdml.grading.producers")


# ---------------------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------------------
def _preload(modules: list[str]) -> list[str]:
    loaded = []
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001 - an optional module that is not installed
            pass
    # The kernel machinery last; nothing here may start a thread.
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    return loaded


def _run_kernel(request: dict, server_pid: int) -> None:
    """In the forked child: confine, then become an ipykernel kernel. Never returns."""
    code = 1
    try:
        log_fd = os.open(request["log_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        from chdml.grading import sandbox

        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sandbox.enter(sandbox.SandboxSpec.from_json(request["sandbox"]), server_pid)
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(["-f", request["connection_file"],
                        "--HistoryManager.enabled=False",
                        "--IPKernelApp.ipython_dir=" + os.path.join(os.getcwd(), ".ipython"),
                        "--IPKernelApp.quiet=True"])
        app.start()
        code = 0
    except BaseException:  # noqa: BLE001 - whatever happens, report and leave
        traceback.print_exc()
    finally:
        os._exit(code)


def _kill_orphans(kernels: set[int]) -> None:
    """Kill our children that are not kernels (orphans adopted as subreaper)."""
    try:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == os.getpid() and int(entry) not in kernels:
                os.kill(int(entry), signal.SIGKILL)
    except OSError:
        pass


def serve(modules: list[str]) -> None:
    """The server's main loop (see the module doc)."""
    if sys.path and sys.path[0] == os.getcwd():
        sys.path.pop(0)  # `python -m` put our private folder there: not for kernels
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from imports must not corrupt the protocol
    start = time.perf_counter()
    loaded = _preload(modules)
    from chdml.grading import sandbox

    if sys.platform.startswith("linux"):
        sandbox.prctl(sandbox.PR_SET_CHILD_SUBREAPER, 1)
        sandbox.prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)

    def send(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")

    send({"op": "ready", "pid": os.getpid(), "preloaded": loaded,
          "seconds": round(time.perf_counter() - start, 3)})
    wake_read, wake_write = os.pipe()  # SIGCHLD wakes the loop at once
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    kernels: set[int] = set()
    buffer = b""
    last_sweep = 0.0
    while True:
        readable, _, _ = select.select([0, wake_read], [], [], 1.0)
        if wake_read in readable:
            os.read(wake_read, 4096)
            readable.remove(wake_read)
        exited = False
        while True:  # reap
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in kernels:
                kernels.discard(pid)
                exited = True
                send({"op": "exited", "pid": pid,
                      "returncode": os.waitstatus_to_exitcode(status)})
        if exited or time.monotonic() - last_sweep > 1.0:
            _kill_orphans(kernels)
            last_sweep = time.monotonic()
        if not readable:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            if request["op"] == "spawn":
                pid = os.fork()
                if pid == 0:
                    channel.close()
                    signal.set_wakeup_fd(-1)
                    os.close(wake_read)
                    os.close(wake_write)
                    _run_kernel(request, os.getppid())
                kernels.add(pid)
                send({"op": "spawned", "id": request["id"], "pid": pid})
    for pid in kernels:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    _kill_orphans(set())


# ---------------------------------------------------------------------------------------
# The grader's side
# ---------------------------------------------------------------------------------------
class ForkServerError(RuntimeError):
    """The fork server could not start or stopped answering."""


class ForkServer:
    """Start and talk to a fork server process (see the module doc).

    ``environment`` is the server's whole environment (the grader's secrets, such as
    ``CHDML_GRADING_SALT``, must not be in it: kernels inherit it before the sandbox
    replaces it). ``log_path`` receives the server's stderr; ``cwd`` is its working folder
    (a private one: ``python -m`` puts it on the kernels' import path).
    """

    def __init__(self, modules: tuple[str, ...] = DEFAULT_PRELOAD, *,
                 environment: dict[str, str], log_path: Path, cwd: Path,
                 start_timeout: float = 180):
        self._log = open(log_path, "ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "chdml.grading.forkserver", *modules],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env=environment, start_new_session=True, cwd=str(cwd))
        self._lock = threading.Condition()
        self._spawned: dict[str, int] = {}
        self._exited: dict[int, int] = {}
        self._counter = 0
        self._ready: dict | None = None
        self._reader = threading.Thread(target=self._read, name="forkserver-reader",
                                        daemon=True)
        self._reader.start()
        with self._lock:
            if not self._lock.wait_for(lambda: self._ready is not None or self._dead(),
                                       timeout=start_timeout):
                self.close()
                raise ForkServerError(f"the kernel fork server did not start within "
                                      f"{start_timeout:.0f} s; see {log_path}")
        if self._ready is None:
            raise ForkServerError(f"the kernel fork server stopped at start; see {log_path}")

    @property
    def preload_seconds(self) -> float:
        """How long the server took to import its modules."""
        return float(self._ready["seconds"]) if self._ready else 0.0

    def _dead(self) -> bool:
        return self._process.poll() is not None

    def _read(self) -> None:
        for line in self._process.stdout:
            message = json.loads(line)
            with self._lock:
                if message["op"] == "ready":
                    self._ready = message
                elif message["op"] == "spawned":
                    self._spawned[message["id"]] = message["pid"]
                elif message["op"] == "exited":
                    self._exited[message["pid"]] = message["returncode"]
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def spawn(self, sandbox_spec: dict, connection_file: str, log_file: str,
              timeout: float = 30) -> int:
        """Fork a kernel; return its process id (the kernel may still be starting)."""
        with self._lock:
            self._counter += 1
            request_id = str(self._counter)
            request = {"op": "spawn", "id": request_id, "sandbox": sandbox_spec,
                       "connection_file": connection_file, "log_file": log_file}
            try:
                self._process.stdin.write((json.dumps(request) + "\n").encode())
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError) as exc:
                raise ForkServerError("the kernel fork server has stopped") from exc
            if not self._lock.wait_for(lambda: request_id in self._spawned or self._dead(),
                                       timeout=timeout):
                raise ForkServerError("the kernel fork server did not answer")
            if request_id not in self._spawned:
                raise ForkServerError("the kernel fork server has stopped")
            return self._spawned.pop(request_id)

    def returncode(self, pid: int) -> int | None:
        """The exit code of kernel ``pid`` if it has exited, else ``None``."""
        with self._lock:
            return self._exited.get(pid)

    def wait_exit(self, pid: int, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for kernel ``pid`` to exit; its exit code or ``None``."""
        with self._lock:
            self._lock.wait_for(lambda: pid in self._exited or self._dead(), timeout=timeout)
            return self._exited.get(pid)

    def close(self) -> None:
        """Stop the server; it kills every kernel it started."""
        try:
            self._process.stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._log.close()


if __name__ == "__main__":
    serve(sys.argv[1:] or list(DEFAULT_PRELOAD))
