"""``chdml build [WORKSHOP] [--check]``: ``source/`` -> ``release/`` + self-check data, proved.

For each workshop (one with a ``source/<workshop>/`` folder and ``autograder/<workshop>/``
checks):

1. check the source notebook against the checks: every exercise has exactly one locked,
   graded check cell ``grader.check("<exercise>")`` worth the exercise's points;
2. make the student notebooks with nbgrader's ``generate_assignment`` (configured by the
   course's ``nbgrader_config.py``), then add the "Open in Colab" badge and the one
   ``%pip install`` cell (``c.ChdmlCourse.repository_url``/``branch``);
3. write the self-check data (public cases only, :mod:`chdml.grading.publish`);
4. prove, with real sandboxed kernels: the source notebook runs without an error, passes
   every public self-check (otter, strict) and scores full marks on every case, public and
   hidden; the untouched release notebook scores zero on every auto-graded exercise; no
   solution line and no hidden case (its description, inputs or expected values) appears
   in ``release/``, in the self-check data, or in the feedback of those two gradings;
5. replace ``release/<workshop>/`` and the self-check data atomically, or with ``--check``
   change nothing and fail if they differ from what was built.

Everything is built in a temporary folder first and is byte-for-byte reproducible (stable
cell ids, fixed zip timestamps), so ``--check`` can compare.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chdml.atomic import atomic_directory
from chdml.errors import UserError, describe_path
from chdml.grading import wire
from chdml.grading.course import Course, load_course
from chdml.grading.engine import Engine, NotebookGrader, NotebookResult, Settings
from chdml.grading.publish import write_selfcheck
from chdml.grading.restore import CHECK_CALL, check_cells, is_protected, nbgrader_meta
from chdml.grading.spec import Workshop, draw_cases, load_workshop, total_points

BADGE_ID = "chdml-colab-badge"
INSTALL_ID = "chdml-install"
SOLUTION_REGION = re.compile(r"#+\s*BEGIN SOLUTION.*?#+\s*END SOLUTION", re.S)


# ---------------------------------------------------------------------------------------
# Reading and checking the source
# ---------------------------------------------------------------------------------------
def read_notebook(path: Path) -> dict:
    """A notebook as a dict; :class:`UserError` naming the file if it is not one."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read notebook {describe_path(path)}: {exc}; open and save "
                        "it again in Jupyter.") from exc
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise UserError(f"{describe_path(path)} is not a notebook (no cells); open and save "
                        "it again in Jupyter.")
    return notebook


def graded_notebook(course: Course, workshop: str) -> Path:
    """The one source notebook of ``workshop`` that holds check cells."""
    folder = course.source / workshop
    candidates = [path for path in sorted(folder.glob("*.ipynb"))
                  if check_cells(read_notebook(path))]
    if len(candidates) != 1:
        found = ", ".join(path.name for path in candidates) or "none"
        raise UserError(f"{describe_path(folder)} must hold exactly one notebook with check "
                        f"cells (grader.check(...)), found {found}; keep the checks of a "
                        "workshop in one notebook.")
    return candidates[0]


def validate_source(path: Path, notebook: dict, workshop: Workshop) -> None:
    """Every exercise has one locked check cell worth its points; nothing else is checked."""
    found = check_cells(notebook)
    for exercise, ids in found.items():
        if exercise not in workshop.exercises:
            raise UserError(f"{describe_path(path)} checks exercise '{exercise}', which has no "
                            f"module in autograder/{workshop.name}/; add it or fix the name.")
        if len(ids) > 1:
            raise UserError(f"{describe_path(path)} checks '{exercise}' in {len(ids)} cells "
                            f"({', '.join(ids)}); keep one check cell per exercise.")
    for exercise in workshop.exercises:
        if exercise not in found:
            raise UserError(f"{describe_path(path)} has no locked check cell "
                            f"grader.check(\"{exercise}\"); add one after the exercise (mark "
                            "it 'Autograder tests' in nbgrader's toolbar).")
    points_of = {}
    for cell in notebook["cells"]:
        meta = nbgrader_meta(cell)
        for exercise in CHECK_CALL.findall(_text(cell)) if is_protected(cell) else []:
            points_of[exercise] = (meta.get("grade_id"), meta.get("grade"), meta.get("points"))
    for exercise, definition in workshop.exercises.items():
        grade_id, graded, points = points_of[exercise]
        total = total_points(definition)
        if not graded or float(points or 0) != float(total):
            raise UserError(f"check cell '{grade_id}' in {describe_path(path)} gives "
                            f"{points or 0} points but the cases of exercise '{exercise}' add up "
                            f"to {total:g}; make it an 'Autograder tests' cell worth {total:g}.")


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


# ---------------------------------------------------------------------------------------
# Making the release
# ---------------------------------------------------------------------------------------
def tools_on_path() -> None:
    """nbgrader runs ``alembic`` as a program: make this environment's scripts findable."""
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def github_name(url: str) -> str:
    """``OWNER/REPO`` of a GitHub URL; :class:`UserError` otherwise (Colab needs GitHub)."""
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", url.strip())
    if not match:
        raise UserError(f"c.ChdmlCourse.repository_url = '{url}' in nbgrader_config.py is not "
                        "a https://github.com/OWNER/REPO address; the Colab badge needs one.")
    return f"{match.group(1)}/{match.group(2)}"


def colab_cells(course: Course, workshop: str, notebook_name: str) -> list[dict]:
    """The badge (markdown) and install (code) cells added to every release notebook."""
    settings = course.settings
    repository = github_name(settings.repository_url)
    link = (f"https://colab.research.google.com/github/{repository}/blob/{settings.branch}/"
            f"{course.release.relative_to(course.root).as_posix()}/{workshop}/{notebook_name}")
    badge = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             f"({link})")
    install = (f'%pip install --quiet "chdml @ git+{settings.repository_url.rstrip("/")}'
               f'@{settings.branch}"')
    return [{"cell_type": "markdown", "id": BADGE_ID, "metadata": {}, "source": badge},
            {"cell_type": "code", "id": INSTALL_ID, "metadata": {}, "source": install,
             "outputs": [], "execution_count": None}]


def finish_release_notebook(notebook: dict, extra_cells: list[dict]) -> str:
    """Insert the Colab cells after the title and return reproducible notebook text."""
    import nbformat

    cells = [cell for cell in notebook["cells"] if cell.get("id") not in (BADGE_ID, INSTALL_ID)]
    position = 1 if cells and cells[0].get("cell_type") == "markdown" else 0
    cells[position:position] = extra_cells
    for index, cell in enumerate(cells):
        cell.setdefault("id", f"cell-{index}")
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    notebook["cells"] = cells
    notebook["nbformat"], notebook["nbformat_minor"] = 4, max(5, notebook.get("nbformat_minor", 5))
    node = nbformat.from_dict(notebook)
    return nbformat.writes(node, version=4) + "\n"


def generate_release(course: Course, workshop: str, destination: Path) -> Path:
    """Run nbgrader's ``generate_assignment`` for ``workshop`` into ``destination``; add the
    Colab cells; return the workshop's release folder there."""
    from nbgrader.apps.api import NbGraderAPI

    tools_on_path()
    destination.mkdir(parents=True, exist_ok=True)
    config = copy.deepcopy(course.config)  # Config.copy() would share the sections
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.release_directory = str(destination / "release")
    config.CourseDirectory.db_url = f"sqlite:///{destination / 'gradebook.db'}"
    config.Exchange.root = str(destination / "exchange")
    config.NbGraderAPI.log_level = "ERROR"
    result = NbGraderAPI(config=config).generate_assignment(workshop)
    folder = destination / "release" / workshop
    if not result["success"]:
        log = (result.get("error") or result.get("log") or "").strip().splitlines()
        raise UserError(f"nbgrader could not make the student version of "
                        f"{describe_path(course.source / workshop)}: "
                        f"{log[-1] if log else 'no message'}; fix the notebook's nbgrader cells.")
    for path in sorted(folder.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        extra = colab_cells(course, workshop, path.name)
        path.write_text(finish_release_notebook(notebook, extra), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------
# Proofs
# ---------------------------------------------------------------------------------------
def secret_lines(source: dict, minimum: int = 8) -> set[str]:
    """Solution lines (stripped, at least ``minimum`` characters) that appear nowhere in the
    source notebook outside solution regions: none of them may reach a student."""
    inside, outside = set(), set()
    for cell in source["cells"]:
        text = _text(cell)
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            regions = SOLUTION_REGION.findall(text) if cell.get("cell_type") == "code" else []
            secret = "\n".join(regions) if regions else text
            rest = SOLUTION_REGION.sub("", text) if regions else ""
        else:
            secret, rest = "", text
        inside |= {line.strip() for line in secret.splitlines()}
        outside |= {line.strip() for line in rest.splitlines()}
    return {line for line in inside - outside
            if len(line) >= minimum and "SOLUTION" not in line}


def _feedback_text(result: NotebookResult) -> str:
    return "\n".join([*result.notes, *(case.message for exercise in result.exercises.values()
                                       for case in exercise.cases)])


def _hidden_fingerprints(workshop: Workshop) -> tuple[list[str], list[bytes], list[str]]:
    """Hidden cases' descriptions, array bytes (inputs and expected, >= 4 values) and the
    words a message would use for those arrays."""
    from chdml.grading.compare import describe

    descriptions, blobs, words = [], [], []
    for exercise in workshop.exercises.values():
        for case in draw_cases(workshop.name, exercise):
            if case.public:
                continue
            descriptions.append(case.case.description)
            for value in [*case.case.inputs.values(), case.expected]:
                _, arrays = wire.pack(value)
                for array in arrays.values():
                    if array.size >= 4:
                        blobs.append(array.tobytes())
                        words.append(describe(array, 120))
    return descriptions, blobs, words


def find_leaks(source: dict, workshop: Workshop, release: Path, selfcheck: Path,
               feedback: list[str]) -> list[str]:
    """Every place where solution text or hidden-case content reached something a student
    can see (empty list: none)."""
    leaks = []
    secrets = secret_lines(source)
    descriptions, blobs, words = _hidden_fingerprints(workshop)
    texts = {path: path.read_text(encoding="utf-8", errors="replace")
             for folder in (release, selfcheck) for path in sorted(folder.rglob("*"))
             if path.is_file() and path.suffix in (".ipynb", ".json", ".py", ".md", ".txt")}
    for path, text in texts.items():
        for line in secrets:
            if line in text:
                leaks.append(f"solution line '{line}' appears in {path}")
        for description in descriptions:
            if description in text:
                leaks.append(f"hidden case '{description}' appears in {path}")
    for path in sorted(selfcheck.rglob("*.npz")):
        arrays = wire.load_npz_bytes(path.read_bytes())
        stored = {array.tobytes() for array in arrays.values()}
        if any(blob in stored for blob in blobs):
            leaks.append(f"a hidden case's inputs or expected values are stored in {path}")
    for text in feedback:
        for line in secrets:
            if line in text:
                leaks.append(f"solution line '{line}' appears in feedback")
        if any(word in text for word in words):
            leaks.append("a hidden case's inputs or expected values appear in feedback")
    return sorted(set(leaks))


def _cell_errors(executed: dict | None) -> list[str]:
    errors = []
    for index, cell in enumerate((executed or {}).get("cells", [])):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(f"cell {index + 1} raised {output.get('ename')}: "
                              f"{str(output.get('evalue', ''))[:200]}")
    return errors


def prove(workshop: Workshop, source_path: Path, source: dict, release_notebook: Path,
          engine: Engine, files: list[Path]) -> tuple[list[str], list[str]]:
    """Run the proofs 4 (see the module doc); return (problems, feedback texts)."""
    problems = []
    grader = NotebookGrader(workshop, source, engine, files=files)
    result, executed = grader.grade(source_path.read_text(encoding="utf-8"))
    for error in _cell_errors(executed):
        problems.append(f"the source notebook must run without errors, but {error}")
    if result.status != "ok":
        problems.append(f"the source notebook's grading ended with '{result.status}': "
                        f"{'; '.join(result.notes)}")
    for exercise in result.exercises.values() if result.status in ("ok", "tampered") else []:
        for case in exercise.cases:
            if not case.passed:
                kind = "public" if case.public else "hidden"
                got = [line for line in case.message.splitlines() if line.startswith("Got:")]
                problems.append(f"the source notebook fails {kind} case '{case.description}' "
                                f"of '{exercise.name}'" + (f" ({got[0]})" if got else ""))
    blank, _ = grader.grade(release_notebook.read_text(encoding="utf-8"))
    for exercise in blank.exercises.values():
        if exercise.awarded > 0:
            problems.append(f"the untouched release notebook scores {exercise.awarded:g} on "
                            f"'{exercise.name}'; its checks must fail without the student's work")
    return problems, [_feedback_text(result), _feedback_text(blank)]


# ---------------------------------------------------------------------------------------
# Comparing with what is on disk
# ---------------------------------------------------------------------------------------
# Another CPU rounds differently: TensorFlow's kernels on an AVX2-only CPU and on one
# with AVX-512 give model outputs 1.5e-6 apart (relative), and an image resampling may
# round the odd pixel the other way (seen: 2 of 156 800 pixels 0.001 apart).
FLOAT_RTOL = 1e-5
STRAY_SHARE = 0.001   # values allowed outside FLOAT_RTOL ...
STRAY_RANGE = 0.01    # ... by at most this share of the array's range


def _same_data(a: object, b: object) -> bool:
    """Equal, with floats equal to ``FLOAT_RTOL`` relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_data(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_data(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and bool(
            np.isclose(a, b, rtol=FLOAT_RTOL, atol=1e-9, equal_nan=True))
    return a == b


def _same_floats(x: np.ndarray, y: np.ndarray) -> bool:
    """Float arrays equal up to another CPU's rounding: every value within
    ``FLOAT_RTOL``, except at most ``STRAY_SHARE`` of them, which may be off by up to
    ``STRAY_RANGE`` of ``y``'s range. NaNs must sit in the same places."""
    close = np.isclose(x, y, rtol=FLOAT_RTOL, atol=1e-9, equal_nan=True)
    if close.all():
        return True
    finite = np.isfinite(y)
    if not np.array_equal(np.isfinite(x), finite) or not finite.any():
        return False
    span = float(np.ptp(y[finite]))
    return bool(close.mean() >= 1 - STRAY_SHARE
                and np.abs(x[finite] - y[finite]).max() <= STRAY_RANGE * span)


def _same_file(built: Path, existing: Path) -> bool:
    if built.read_bytes() == existing.read_bytes():
        return True
    try:
        if built.suffix == ".json":
            return _same_data(json.loads(built.read_text()), json.loads(existing.read_text()))
        if built.suffix == ".npz":
            a = wire.load_npz_bytes(built.read_bytes())
            b = wire.load_npz_bytes(existing.read_bytes())
            return a.keys() == b.keys() and all(
                x.shape == y.shape and x.dtype == y.dtype and (
                    _same_floats(x, y) if x.dtype.kind in "fc" else np.array_equal(x, y))
                for x, y in ((a[k], b[k]) for k in a))
    except (ValueError, OSError):
        return False
    return False


def stale_files(built: Path, existing: Path) -> list[str]:
    """Files that differ between a freshly built folder and the one on disk."""
    def listing(folder: Path) -> set[Path]:
        return {path.relative_to(folder) for path in folder.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts} if folder.is_dir() else set()

    new, old = listing(built), listing(existing)
    problems = [f"{existing / name} is missing" for name in sorted(new - old)]
    problems += [f"{existing / name} should not be there" for name in sorted(old - new)]
    problems += [f"{existing / name} is out of date" for name in sorted(new & old)
                 if not _same_file(built / name, existing / name)]
    return problems


def _install(built: Path, destination: Path) -> None:
    with atomic_directory(destination, overwrite=True) as tmp:
        shutil.copytree(built, tmp, dirs_exist_ok=True)


# ---------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------
@dataclass
class Built:
    """A workshop built in the scratch folder, waiting for its proofs."""

    name: str
    workshop: Workshop
    source_path: Path
    source: dict
    release: Path
    selfcheck: Path
    files: list[Path]


def build_workshop(course: Course, name: str, scratch: Path) -> Built:
    """Check the source of ``name`` and build its release and self-check data in
    ``scratch`` (self-check data in ``scratch/selfcheck/<name>``); raises
    :class:`UserError` for a source that does not fit its checks."""
    workshop = load_workshop(course.autograder / name)
    source_path = graded_notebook(course, name)
    source = read_notebook(source_path)
    validate_source(source_path, source, workshop)
    release = generate_release(course, name, scratch / name)
    selfcheck = scratch / "selfcheck" / name
    write_selfcheck(workshop, selfcheck)
    files = [path for path in sorted((course.source / name).iterdir())
             if path.is_file() and path.suffix != ".ipynb" and not path.name.startswith(".")]
    return Built(name, workshop, source_path, source, release, selfcheck, files)


def prove_and_install(course: Course, built: Built, check: bool, engine: Engine) -> list[str]:
    """Run the proofs; then install the build, or with ``check`` compare it with the files
    on disk. Returns the problems (none: success)."""
    problems, feedback = prove(built.workshop, built.source_path, built.source,
                               built.release / built.source_path.name, engine, built.files)
    problems += find_leaks(built.source, built.workshop, built.release, built.selfcheck,
                           feedback)
    if check:
        problems += stale_files(built.release, course.release / built.name)
        problems += stale_files(built.selfcheck, course.selfcheck / built.name)
    elif not problems:
        _install(built.release, course.release / built.name)
        _install(built.selfcheck, course.selfcheck / built.name)
    return problems


def proof_engine(course: Course, scratch: Path) -> Engine:
    """The engine the proofs run on: strict self-checks, self-check data read from
    ``scratch/selfcheck``, the course's private files hidden from the kernels."""
    settings = Settings(cell_timeout=600, total_timeout=1800)
    hidden = [course.source, course.autograder, *course.private_files()]
    (scratch / "selfcheck").mkdir(parents=True, exist_ok=True)  # kernels bind it at start
    return Engine(hidden=hidden, settings=settings, strict_selfcheck=True,
                  selfcheck_dir=scratch / "selfcheck")


def run_build(course: Course, names: list[str], check: bool, engine: Engine,
              scratch: Path) -> bool:
    """Build (or check) ``names`` with a running ``engine`` (see :func:`proof_engine`);
    print what happened; return True if everything is fine."""
    built = [build_workshop(course, name, scratch) for name in names]
    failed = False
    for one in built:
        start = time.perf_counter()
        problems = prove_and_install(course, one, check, engine)
        seconds = time.perf_counter() - start
        if problems:
            failed = True
            print(f"{one.name}: FAILED ({seconds:.0f} s)")
            for problem in problems:
                print(f"  - {problem}")
        else:
            verb = "up to date" if check else "built"
            print(f"{one.name}: {verb}; source passes every case, release scores zero, "
                  f"nothing leaks ({seconds:.0f} s)")
    if failed and check:
        print("Run `chdml build` to update release/ and the self-check data.")
    return not failed


def main(workshop: str | None = None, check: bool = False, course: str = ".") -> int:
    """Build (or check) ``workshop`` or every workshop of the course; see the module doc."""
    course_ = load_course(course)
    if workshop:
        course_.require_workshop(workshop)
        names = [workshop]
    else:
        names = course_.workshops()
    if not names:
        print(f"chdml build: nothing to build: no folder in {course_.source} has checks in "
              f"{course_.autograder}.")
        return 0
    with tempfile.TemporaryDirectory(prefix="chdml-build-") as scratch:
        scratch = Path(scratch)
        for name in names:  # refuse a source that does not fit its checks before any kernel
            validate_source(graded_notebook(course_, name),
                            read_notebook(graded_notebook(course_, name)),
                            load_workshop(course_.autograder / name))
        with proof_engine(course_, scratch) as engine:
            ok = run_build(course_, names, check, engine, scratch)
    return 0 if ok else 1
