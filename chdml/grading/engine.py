"""Grade one notebook: run it in a warm sandboxed kernel, produce values, judge them here.

:class:`Engine` owns the fork server and the kernel pool for a batch (or a build's proofs).
:class:`NotebookGrader` grades notebooks of one workshop:

1. parse the notebook (``invalid_notebook`` if it is not one);
2. put the protected cells back from ``source/`` (:mod:`chdml.grading.restore`);
3. take a fresh kernel, copy the workshop's files into its working directory;
4. run the code cells in order with a per-cell and a total time limit (``%pip`` lines are
   skipped); right after an exercise's check cell, ask the kernel to *produce* the
   student's values on all that exercise's cases (:mod:`chdml.grading.kernelside`);
5. kill the kernel and everything it started; judge every value in this process against
   the reference (:mod:`chdml.grading.compare`).

A notebook's problems (errors, endless loops, crashes, memory, huge output) become its
status and notes; they never stop the caller.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chdml.grading import messages, wire
from chdml.grading.forkserver import DEFAULT_PRELOAD, ForkServer
from chdml.grading.kernel import (WARMUP_KERAS, Kernel, KernelPool, OutputBudget,
                                  remove_workdir)
from chdml.grading.restore import check_cells, restore, without_installs
from chdml.grading.sandbox import Limits, capabilities
from chdml.grading.spec import DrawnCase, Workshop, draw_cases

STATUS_ORDER = ("invalid_notebook", "grader_error", "memory", "kernel_died", "timeout",
                "tampered", "ok")


@dataclass
class CaseResult:
    """One case's judgement; ``message`` is what the feedback shows when it failed."""

    index: int
    public: bool
    description: str
    points: float
    awarded: float
    passed: bool
    message: str = ""


@dataclass
class ExerciseResult:
    """One exercise: its cases, points and whether its check cell was reached."""

    name: str
    title: str
    points: float
    awarded: float
    reached: bool
    cases: list[CaseResult] = field(default_factory=list)


@dataclass
class NotebookResult:
    """A graded notebook (JSON-able with :meth:`to_json` for the batch journal)."""

    status: str
    exercises: dict[str, ExerciseResult]
    notes: list[str] = field(default_factory=list)
    cell_seconds: float = 0.0
    total_seconds: float = 0.0
    peak_memory: int = 0
    timings: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(result.awarded for result in self.exercises.values())

    @property
    def max_total(self) -> float:
        return sum(result.points for result in self.exercises.values())

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> NotebookResult:
        exercises = {name: ExerciseResult(**dict(value, cases=[CaseResult(**case)
                                                               for case in value["cases"]]))
                     for name, value in data["exercises"].items()}
        return cls(**dict(data, exercises=exercises))


@dataclass
class Settings:
    """Limits for one notebook (seconds, bytes)."""

    cell_timeout: float = 300.0
    total_timeout: float = 900.0
    case_seconds: float = 30.0
    output_bytes: int = 8 << 20
    result_bytes: int = 256 << 20
    limits: Limits = field(default_factory=Limits)


def worst_status(statuses: list[str]) -> str:
    """The most important of ``statuses`` (see :data:`STATUS_ORDER`)."""
    return min(statuses, key=STATUS_ORDER.index) if statuses else "ok"


def kernel_environment(selfcheck_dir: Path | None, strict_selfcheck: bool) -> dict[str, str]:
    """The environment of the fork server and its kernels: no secrets of the grader."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                   "LC_ALL": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "2",
                   "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                   "USER": "student", "LOGNAME": "student"}
    for name in ("PYTHONPATH", "KERAS_BACKEND", "VIRTUAL_ENV"):
        if name in os.environ:
            environment[name] = os.environ[name]
    if selfcheck_dir is not None:
        environment["CHDML_SELFCHECK_DIR"] = str(selfcheck_dir)
    if strict_selfcheck:
        environment["CHDML_SELFCHECK_STRICT"] = "1"
    else:
        environment["CHDML_GRADING_KERNEL"] = "1"
    return environment


class Engine:
    """The fork server and kernel pool for a run (use as a context manager).

    ``hidden`` are paths the sandbox hides from the kernels (the instructor's files);
    ``spare`` kernels are kept forked ahead; with ``strict_selfcheck`` the kernels run the
    otter self-checks and raise on failure (for the build's proofs) instead of skipping them.
    """

    def __init__(self, *, hidden: list[Path], settings: Settings, spare: int = 1,
                 selfcheck_dir: Path | None = None, strict_selfcheck: bool = False,
                 log_dir: Path | None = None) -> None:
        self.hidden = [str(Path(path).resolve()) for path in hidden]
        self.settings = settings
        self.spare = spare
        self.selfcheck_dir = selfcheck_dir
        self.strict_selfcheck = strict_selfcheck
        self.log_dir = log_dir
        self.level = "basic"
        self.base: Path | None = None
        self.server: ForkServer | None = None
        self.pool: KernelPool | None = None
        self.start_seconds = 0.0
        self.janitor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="janitor")

    def __enter__(self) -> Engine:
        start = time.perf_counter()
        self.level = capabilities()
        # Kernels' working folders: short paths (Unix sockets), outside /tmp in the full
        # sandbox (there /tmp becomes each kernel's own .tmp folder).
        run = Path("/run")
        private = self.level == "full" and run.is_dir() and os.access(run, os.W_OK)
        parent = run if private else Path(tempfile.gettempdir())
        remove_abandoned(parent)
        self.base = Path(tempfile.mkdtemp(prefix="chdml-", dir=parent))
        os.chmod(self.base, 0o711)
        (self.base / ".owner").write_text(str(os.getpid()))
        environment = kernel_environment(self.selfcheck_dir, self.strict_selfcheck)
        modules = DEFAULT_PRELOAD + (("otter", "chdml.grading.notebook")
                                     if self.strict_selfcheck else ())
        log = (self.log_dir or self.base) / ".forkserver.log"
        self.server = ForkServer(modules, environment=environment, log_path=log, cwd=self.base)
        self.pool = KernelPool(self.server, self.base, level=self.level, hidden=self.hidden,
                               limits=self.settings.limits, environment=environment,
                               spare=self.spare, warmup=WARMUP_KERAS,
                               readable=[str(self.selfcheck_dir)] if self.selfcheck_dir else [])
        self.start_seconds = time.perf_counter() - start
        return self

    def describe(self) -> str:
        """One line about the sandbox, for the instructor."""
        if self.level == "full":
            first = self.pool.first_uid
            return (f"sandbox: full (namespaces; user ids {first}-{first + 999}; "
                    "no network; read-only files outside each working folder)")
        return ("sandbox: basic (run as root for the full sandbox: here notebooks run as "
                "your user and could write where you can)")

    def __exit__(self, *exc_info) -> None:
        self.janitor.shutdown(wait=True)
        if self.pool is not None:
            self.pool.close()
        if self.server is not None:
            self.server.close()
        if self.base is not None:
            remove_workdir(self.base)


class NotebookGrader:
    """Grades notebooks of one workshop (see the module doc).

    ``source`` is the instructor's notebook (dict) whose protected cells are restored;
    ``files`` are the workshop's other files, copied into every kernel's working directory;
    ``salt`` seeds the hidden cases (default: ``CHDML_GRADING_SALT``).
    """

    def __init__(self, workshop: Workshop, source: dict, engine: Engine, *,
                 files: list[Path] = (), salt: str | None = None) -> None:
        self.workshop = workshop
        self.source = source
        self.engine = engine
        self.files = list(files)
        self.cases: dict[str, list[DrawnCase]] = {
            name: draw_cases(workshop.name, exercise, salt=salt)
            for name, exercise in workshop.exercises.items()}
        for drawn in self.cases.values():  # reference values: computed once, here
            for case in drawn:
                _ = case.expected
        found = check_cells(source)
        self.check_cell_of = {exercise: ids[0] for exercise, ids in found.items()}

    # -- one notebook ----------------------------------------------------------------
    def grade(self, notebook_text: str, extra_files: list[Path] = ()) -> tuple[NotebookResult, dict | None]:
        """Grade one notebook's text; return the result and the executed notebook."""
        start = time.monotonic()
        try:
            cells = self._parse(notebook_text)
        except ValueError as exc:
            return self.unreached("invalid_notebook", [str(exc)], start), None
        try:
            return self._grade_cells(cells, extra_files, start)
        except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            return self.unreached("grader_error", [f"internal error: {detail}"], start), None

    @staticmethod
    def _parse(text: str) -> list[dict]:
        try:
            notebook = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            where = f"{exc.msg}, line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) \
                else str(exc)
            raise ValueError(f"not a notebook: the file is not valid JSON ({where})") from exc
        cells = notebook.get("cells") if isinstance(notebook, dict) else None
        if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
            raise ValueError("not a notebook: it has no list of cells")
        if notebook.get("nbformat", 4) < 4:
            raise ValueError("the notebook is in an old format (nbformat 3); open and save "
                             "it in Jupyter first")
        return cells

    def _grade_cells(self, cells: list[dict], extra_files: list[Path],
                     start: float) -> tuple[NotebookResult, dict]:
        settings = self.engine.settings
        restored = restore(self.source, cells)
        notes = list(restored.notes)
        statuses = ["tampered"] if restored.tampered else []
        check_index = {}
        for exercise, grade_id in self.check_cell_of.items():
            for index, cell in enumerate(restored.cells):
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
                    check_index.setdefault(index, []).append(exercise)
        timings = {"restore": time.monotonic() - start}
        mark = time.monotonic()
        kernel = self.engine.pool.take()
        values: dict[str, list] = {}
        cell_seconds = 0.0
        produce_seconds = 0.0
        budget = OutputBudget(settings.output_bytes)
        try:
            self._copy_files(kernel, extra_files)
            timings["kernel"] = time.monotonic() - mark
            deadline = time.monotonic() + settings.total_timeout
            for index, cell in enumerate(restored.cells):
                if cell.get("cell_type") != "code":
                    continue
                code = without_installs(_source_text(cell))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    statuses.append("timeout")
                    notes.append(f"stopped at cell {index + 1}: the notebook ran longer than "
                                 f"{settings.total_timeout:.0f} s")
                    break
                if code.strip():
                    run = kernel.execute(code, timeout=min(settings.cell_timeout, remaining),
                                         budget=budget)
                    cell_seconds += run.seconds
                    cell["outputs"] = run.outputs
                    stop = self._note_run(run, index, notes, statuses)
                    if stop:
                        break
                for exercise in check_index.get(index, []):
                    mark = time.monotonic()
                    values[exercise] = self._produce(kernel, exercise, notes, statuses)
                    produce_seconds += time.monotonic() - mark
                    timings[f"produce:{exercise}"] = time.monotonic() - mark
            if budget.exceeded:
                notes.append(f"output beyond {settings.output_bytes >> 20} MB was discarded")
        finally:
            mark = time.monotonic()
            peak = kernel.peak_memory
            kernel.kill()
            self.engine.janitor.submit(remove_workdir, kernel.workdir)
            timings["cleanup"] = time.monotonic() - mark
        mark = time.monotonic()
        exercises = {name: self._judge(name, values.get(name))
                     for name in self.workshop.exercises}
        timings.update(judge=time.monotonic() - mark, cells=cell_seconds,
                       produce=produce_seconds)
        result = NotebookResult(status=worst_status(statuses), exercises=exercises,
                                notes=notes, cell_seconds=round(cell_seconds, 3),
                                total_seconds=round(time.monotonic() - start, 3),
                                peak_memory=peak,
                                timings={k: round(v, 4) for k, v in timings.items()})
        return result, {"cells": restored.cells}

    def _copy_files(self, kernel: Kernel, extra_files: list[Path]) -> None:
        """Student's extra files first, then the workshop's own files over them."""
        for path in list(extra_files) + self.files:
            if path.is_file() and not path.is_symlink():
                target = kernel.workdir / path.name
                shutil.copyfile(path, target)
                if kernel.uid is not None:
                    os.chown(target, kernel.uid, kernel.uid)

    @staticmethod
    def _note_run(run, index: int, notes: list[str], statuses: list[str]) -> bool:
        """Record a cell's trouble; return True when the notebook cannot go on."""
        where = f"cell {index + 1}"
        if run.status == "timeout":
            statuses.append("timeout")
            if run.kernel_alive:
                notes.append(f"{where} was stopped after {run.seconds:.0f} s (time limit)")
                return False
            notes.append(f"{where} did not stop after its time limit; the kernel was killed")
            return True
        if run.status == "memory":
            statuses.append("memory")
            notes.append(f"{where} used more memory than allowed; the kernel was killed")
            return True
        if run.status == "died":
            statuses.append("kernel_died")
            how = (f"killed by signal {-run.returncode}" if (run.returncode or 0) < 0
                   else f"exit code {run.returncode}")
            notes.append(f"the kernel stopped during {where} ({how})")
            return True
        if run.status == "error" and run.error_name == "MemoryError":
            statuses.append("memory")
            notes.append(f"{where} ran out of memory (MemoryError)")
        return False

    def _produce(self, kernel: Kernel, exercise: str, notes: list[str],
                 statuses: list[str]) -> list:
        """Ask the kernel for the student's values on every case of ``exercise``."""
        settings = self.engine.settings
        drawn = self.cases[exercise]
        # A fresh, unguessable folder made by the grader, written before the kernel's user
        # may touch it: nothing the notebook planted (files, symlinks) can be in the way.
        folder = kernel.workdir / f".chdml-{exercise}-{secrets.token_hex(8)}"
        folder.mkdir(mode=0o755)
        request = {"producer": self.workshop.exercises[exercise].producer.spec(),
                   "case_seconds": settings.case_seconds}
        (folder / "request.json").write_text(json.dumps(request))
        wire.save(folder / "inputs", [case.case.inputs for case in drawn])
        if kernel.uid is not None:
            os.chown(folder, kernel.uid, kernel.uid)
        code = (f'__import__("chdml.grading.kernelside").grading.kernelside.produce('
                f'{str(folder)!r}, globals())')
        timeout = settings.case_seconds * len(drawn) + 30
        run = kernel.execute(code, timeout=timeout, budget=OutputBudget(0),
                             store_history=False)  # what the functions print is not kept
        if run.status != "ok":
            self._note_run(run, -1, [], statuses)
            notes.append(f"the check of '{exercise}' could not run ({run.status}"
                         f"{': ' + run.error_name if run.error_name else ''})")
            return [wire.ProducedError(f"the check could not run ({run.status})")] * len(drawn)
        try:
            produced = wire.load(folder / "result", settings.result_bytes)
        except (OSError, ValueError, KeyError) as exc:
            notes.append(f"the values of '{exercise}' could not be read ({exc})")
            produced = None
        if not isinstance(produced, list) or len(produced) != len(drawn):
            return [wire.ProducedError("no values came back")] * len(drawn)
        return produced

    def _judge(self, name: str, values: list | None) -> ExerciseResult:
        exercise = self.workshop.exercises[name]
        drawn = self.cases[name]
        reached = values is not None
        if values is None:
            values = [wire.ProducedError("this exercise's check cell was not reached")] * len(drawn)
        cases = []
        for case, got in zip(drawn, values):
            try:
                verdict = exercise.compare(got, case.expected, case.case.inputs)
            except Exception as exc:  # noqa: BLE001 - odd values must not stop the batch
                verdict = None
                passed = False
                message = f"could not be checked ({type(exc).__name__})"
            else:
                passed = bool(verdict.passed)
                message = messages.case_message(
                    public=case.public, passed=passed, description=case.case.description,
                    inputs=case.case.inputs, verdict=verdict, hint=case.hint)
            cases.append(CaseResult(index=case.index, public=case.public,
                                    description=case.case.description,
                                    points=float(case.case.points),
                                    awarded=float(case.case.points) if passed else 0.0,
                                    passed=passed, message=message))
        return ExerciseResult(name=name, title=exercise.title,
                              points=sum(c.points for c in cases),
                              awarded=sum(c.awarded for c in cases),
                              reached=reached, cases=cases)

    def unreached(self, status: str, notes: list[str], start: float) -> NotebookResult:
        """A result with no exercise reached (the notebook could not run at all)."""
        exercises = {name: self._judge(name, None) for name in self.workshop.exercises}
        return NotebookResult(status=status, exercises=exercises, notes=notes,
                              total_seconds=round(time.monotonic() - start, 3))


def remove_abandoned(parent: Path) -> None:
    """Remove kernels' folders left by a grader that was killed (its process is gone)."""
    import psutil

    for folder in parent.glob("chdml-*"):
        try:
            owner = int((folder / ".owner").read_text())
        except (OSError, ValueError):
            continue
        if not psutil.pid_exists(owner):
            remove_workdir(folder)


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
