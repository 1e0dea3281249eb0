"""Kernels for grading: start them warm, run cells with limits, and clean up after them.

:class:`KernelPool` keeps one or more kernels forked ahead by the fork server
(:mod:`chdml.grading.forkserver`), each in its own fresh working directory with its own
sandbox (:mod:`chdml.grading.sandbox`); :meth:`KernelPool.take` hands out a ready kernel
and immediately forks its replacement, so the next notebook never waits for a kernel
start. :class:`Kernel` runs code with a time limit (interrupt, then kill), a cap on stored
output, and a memory watchdog (resident memory of the kernel and everything it started),
and :meth:`Kernel.kill` removes the kernel with every process it left behind.

Kernels talk to the grader over Unix sockets in their working directory (``ipc``
transport), which also works inside the sandbox's network namespace.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import zmq
from jupyter_client.blocking import BlockingKernelClient

from chdml.grading.forkserver import ForkServer
from chdml.grading.sandbox import Limits, SandboxSpec

FIRST_SANDBOX_UID = 100_000_000
SANDBOX_UIDS = 1000
MAX_MESSAGE_BYTES = 64 << 20


@dataclass
class CellRun:
    """The outcome of running one piece of code in a kernel.

    ``status``: ``"ok"``, ``"error"`` (the code raised; ``error_name``/``error_value``),
    ``"timeout"`` (stopped at its time limit; the kernel may still be usable if
    ``kernel_alive``), ``"memory"`` (killed by the memory watchdog) or ``"died"`` (the
    kernel process ended, e.g. ``os._exit`` or a crash; ``returncode``).
    """

    status: str
    seconds: float
    outputs: list = field(default_factory=list)
    error_name: str = ""
    error_value: str = ""
    returncode: int | None = None
    kernel_alive: bool = True
    output_discarded: bool = False


class OutputBudget:
    """Bytes of output a notebook may store; beyond it outputs are counted, not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.exceeded = False

    def admit(self, size: int) -> bool:
        self.used += size
        if self.used > self.limit:
            self.exceeded = True
        return not self.exceeded


class Kernel:
    """A running, sandboxed kernel (see the module doc); made by :class:`KernelPool`."""

    def __init__(self, pool: KernelPool, pid: int, uid: int | None, workdir: Path,
                 connection: dict) -> None:
        self.pool = pool
        self.warm = threading.Event()
        self.pid = pid
        self.uid = uid
        self.workdir = workdir
        self.memory_exceeded = False
        self.peak_memory = 0
        self._context = zmq.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.client = BlockingKernelClient(context=self._context)
        self.client.load_connection_info(connection)
        self.client.start_channels(hb=False)
        self._poller = zmq.Poller()
        self._poller.register(self.client.shell_channel.socket, zmq.POLLIN)
        self._poller.register(self.client.iopub_channel.socket, zmq.POLLIN)
        self.killed = False

    # -- state -----------------------------------------------------------------------
    def returncode(self) -> int | None:
        """The kernel's exit code once it has exited, else ``None``."""
        return self.pool.server.returncode(self.pid)

    def alive(self) -> bool:
        return not self.killed and self.returncode() is None

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the kernel answers; ``False`` if it died or did not answer in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            msg_id = self.client.kernel_info()
            answer_by = min(deadline, time.monotonic() + 1.0)
            while time.monotonic() < answer_by:
                if self.client.shell_channel.socket.poll(50):
                    reply = self.client.shell_channel.get_msg(timeout=0)
                    if reply["parent_header"].get("msg_id") == msg_id:
                        self._drain_iopub()
                        return True
                if not self.alive():
                    return False
        return False

    def _drain_iopub(self) -> None:
        while self.client.iopub_channel.socket.poll(0):
            self.client.iopub_channel.get_msg(timeout=0)

    # -- running code ----------------------------------------------------------------
    def execute(self, code: str, timeout: float, budget: OutputBudget | None = None,
                store_history: bool = True) -> CellRun:
        """Run ``code``; stop it after ``timeout`` s (interrupt, then kill). Never raises
        for anything the student's code does."""
        start = time.monotonic()
        if not self.alive():
            return CellRun("died", 0.0, returncode=self.returncode(), kernel_alive=False)
        msg_id = self.client.execute(code, store_history=store_history, allow_stdin=False,
                                     stop_on_error=False)
        deadline = start + timeout
        interrupted_at = None
        reply = None
        idle = False
        reply_time = None
        run = CellRun("ok", 0.0)
        while not (reply is not None and idle):
            now = time.monotonic()
            if self.memory_exceeded:
                self.kill()
                run.status, run.kernel_alive = "memory", False
                break
            if not self.alive():
                run.status, run.kernel_alive = "died", False
                run.returncode = self.returncode()
                break
            if reply is not None and now - reply_time > 2.0:
                break  # the reply came but not every output: do not wait for ever
            if now > deadline and interrupted_at is None:
                self.interrupt()
                interrupted_at = now
            elif interrupted_at is not None and now - interrupted_at > 5.0 and reply is None:
                self.kill()
                run.status, run.kernel_alive = "timeout", False
                break
            self._poller.poll(100)
            while self.client.iopub_channel.socket.poll(0):
                message = self.client.iopub_channel.get_msg(timeout=0)
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                kind = message["msg_type"]
                if kind == "status" and message["content"]["execution_state"] == "idle":
                    idle = True
                elif kind in ("stream", "display_data", "execute_result", "error"):
                    self._keep_output(run, message, budget)
            while self.client.shell_channel.socket.poll(0):
                message = self.client.shell_channel.get_msg(timeout=0)
                if message["parent_header"].get("msg_id") == msg_id:
                    reply = message
                    reply_time = time.monotonic()
        run.seconds = time.monotonic() - start
        if reply is not None and run.status == "ok":
            content = reply["content"]
            if content.get("status") != "ok":
                run.status = "timeout" if interrupted_at is not None else "error"
                run.error_name = content.get("ename", "")
                run.error_value = str(content.get("evalue", ""))[:1000]
        elif interrupted_at is not None and run.status == "ok":
            run.status = "timeout"
        return run

    @staticmethod
    def _keep_output(run: CellRun, message: dict, budget: OutputBudget | None) -> None:
        from nbformat.v4 import output_from_msg

        size = len(json.dumps(message["content"]))
        if budget is not None and not budget.admit(size):
            run.output_discarded = True
            return
        try:
            run.outputs.append(output_from_msg(message))
        except ValueError:
            pass

    def interrupt(self) -> None:
        """Send the kernel a keyboard interrupt (as Jupyter's stop button does)."""
        try:
            os.kill(self.pid, signal.SIGINT)
        except OSError:
            pass

    # -- memory ----------------------------------------------------------------------
    def processes(self, every_process_of_its_user: bool = False) -> list[psutil.Process]:
        """The kernel and every process it started (orphans included: it is a subreaper);
        with ``every_process_of_its_user``, also any other process of its sandbox user."""
        try:
            root = psutil.Process(self.pid)
            found = [root] + root.children(recursive=True)
        except psutil.Error:
            found = []
        if self.uid is not None and every_process_of_its_user:
            known = {process.pid for process in found}
            for process in psutil.process_iter(["uids"]):
                try:
                    if process.info["uids"].real == self.uid and process.pid not in known:
                        found.append(process)
                except (psutil.Error, TypeError):
                    pass
        return found

    def resident_memory(self) -> int:
        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    # -- the end ---------------------------------------------------------------------
    def kill(self) -> None:
        """Kill the kernel and everything it started; forget its sockets."""
        if not self.killed:
            self.killed = True
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
            for sweep in range(3):  # processes may fork while we kill: until none is left
                left = self.processes(every_process_of_its_user=sweep > 0)
                for process in left:
                    try:
                        process.kill()
                    except psutil.Error:
                        pass
                if not left and sweep > 0:
                    break
            self.pool.server.wait_exit(self.pid, timeout=5)
        self.client.stop_channels()
        self._context.destroy(linger=0)
        self.pool.forget(self)


class KernelPool:
    """Warm, sandboxed kernels forked ahead of need (see the module doc).

    ``base`` is a short, fresh folder for the kernels' working directories (Unix socket
    paths must stay under ~100 characters); ``level``, ``hidden``, ``readable``, ``limits``
    and ``environment`` configure every kernel's sandbox; ``spare`` is how many kernels are
    kept forked ahead; ``warmup`` is code each spare kernel runs while it waits (it must
    leave no trace a notebook could notice: no Keras layers, no random numbers).
    """

    def __init__(self, server: ForkServer, base: Path, *, level: str, hidden: list[str],
                 limits: Limits, environment: dict[str, str], spare: int = 1,
                 warmup: str = "", readable: list[str] = (),
                 memory_poll_seconds: float = 0.1) -> None:
        self.server = server
        self.readable = list(readable)
        self.warmup = warmup
        self.base = Path(base)
        self.level = level
        self.hidden = hidden
        self.limits = limits
        self.environment = environment
        self.spare = spare
        self._counter = 0
        self.first_uid = free_uid_block() if level == "full" else None
        self._ready: list[Kernel] = []
        self._active: set[Kernel] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch_memory, args=(memory_poll_seconds,),
                                          name="memory-watchdog", daemon=True)
        self._watchdog.start()
        self._refill()

    def _start(self) -> Kernel:
        with self._lock:
            self._counter += 1
            number = self._counter
        workdir = self.base / f"k{number}"
        workdir.mkdir(mode=0o700)
        uid = None
        if self.first_uid is not None:
            uid = self.first_uid + number % SANDBOX_UIDS
            os.chown(workdir, uid, uid)
        for name in (".tmp", ".ipython"):
            (workdir / name).mkdir()
            if uid is not None:
                os.chown(workdir / name, uid, uid)
        ports = {name: number * 10 + offset for offset, name in enumerate(
            ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"))}
        key = secrets.token_hex(16)
        kernel_side = {"transport": "ipc", "ip": "k", "key": key,
                       "signature_scheme": "hmac-sha256", **ports}
        grader_side = dict(kernel_side, ip=str(workdir / "k"))
        connection_file = workdir / ".kernel.json"
        connection_file.write_text(json.dumps(kernel_side))
        if uid is not None:
            os.chown(connection_file, uid, uid)
        environment = dict(self.environment, HOME=str(workdir),
                           TMPDIR="/tmp" if self.level == "full" else str(workdir / ".tmp"))
        spec = SandboxSpec(workdir=str(workdir), level=self.level, uid=uid, gid=uid,
                           hidden=self.hidden, readable=self.readable, limits=self.limits,
                           environment=environment)
        pid = self.server.spawn(spec.to_json(), "./.kernel.json",
                                str(self.base / f"k{number}.log"))
        kernel = Kernel(self, pid, uid, workdir, grader_side)
        threading.Thread(target=self._warm_up, args=(kernel,), name=f"warm-k{number}",
                         daemon=True).start()
        return kernel

    def _warm_up(self, kernel: Kernel) -> None:
        """While the kernel waits in the pool: wait until it answers, then run the warm-up
        code (first TensorFlow operations), so no notebook pays for them."""
        try:
            if kernel.wait_ready(60) and self.warmup:
                kernel.execute(self.warmup, timeout=60, store_history=False)
        except Exception:  # noqa: BLE001 - a kernel that fails here fails again in take()
            pass
        finally:
            kernel.warm.set()

    def take(self, ready_timeout: float = 60) -> Kernel:
        """A ready kernel (its replacement is forked at once)."""
        for _ in range(3):
            with self._lock:
                kernel = self._ready.pop(0) if self._ready else None
            if kernel is None:
                kernel = self._start()
            self._refill()
            kernel.warm.wait(ready_timeout)
            if kernel.wait_ready(ready_timeout):
                with self._lock:
                    self._active.add(kernel)
                return kernel
            kernel.kill()
        log = self.base / "forkserver.log"
        raise RuntimeError(f"kernels fail to start; see the logs in {self.base} ({log})")

    def _refill(self) -> None:
        while True:
            with self._lock:
                if len(self._ready) >= self.spare:
                    return
            kernel = self._start()
            with self._lock:
                self._ready.append(kernel)

    def forget(self, kernel: Kernel) -> None:
        with self._lock:
            self._active.discard(kernel)
            if kernel in self._ready:
                self._ready.remove(kernel)

    def _watch_memory(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            with self._lock:
                active = list(self._active)
            for kernel in active:
                limit = self.limits.memory_bytes
                if limit is None or kernel.killed:
                    continue
                used = kernel.resident_memory()
                kernel.peak_memory = max(kernel.peak_memory, used)
                if used > limit:
                    kernel.memory_exceeded = True
                    for process in kernel.processes():
                        try:
                            process.kill()
                        except psutil.Error:
                            pass

    def close(self) -> None:
        """Kill every kernel of the pool and stop the watchdog."""
        self._stop.set()
        with self._lock:
            kernels = list(self._ready) + list(self._active)
        for kernel in kernels:
            kernel.kill()


WARMUP_KERAS = """
def _chdml_warm_up():
    try:
        import numpy as np
        import keras
    except ImportError:
        return
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu", kernel_initializer="zeros")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(2, activation="softmax", kernel_initializer="zeros")(x)
    keras.Model(inputs, x)(np.zeros((1, 8, 8, 1), "float32"))
    keras.backend.clear_session()
_chdml_warm_up()
del _chdml_warm_up
"""
"""Warm-up code for kernels of notebooks that use Keras: runs a tiny model once (the first
operations of a process are slow) with zero initialisers, so no random number is drawn,
then ``clear_session`` resets Keras' layer names. A notebook cannot tell it ran."""


def free_uid_block() -> int:
    """The first of :data:`SANDBOX_UIDS` user ids no process uses, one block per grading
    run (so that two runs on one machine never kill each other's kernels)."""
    used = set()
    for process in psutil.process_iter(["uids"]):
        try:
            used.add(process.info["uids"].real)
        except (psutil.Error, AttributeError):
            pass
    block = os.getpid() % 100_000
    for attempt in range(100_000):
        first = FIRST_SANDBOX_UID + ((block + attempt) % 100_000) * SANDBOX_UIDS
        if not any(first <= uid < first + SANDBOX_UIDS for uid in used):
            return first
    raise RuntimeError("no free block of user ids for the sandbox")


def remove_workdir(workdir: Path) -> None:
    """Delete a kernel's working directory, whatever permissions the student set."""
    def make_writable(function, path, _info):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            function(path)
        except OSError:
            pass

    shutil.rmtree(workdir, onerror=make_writable)
