"""Find the returned notebooks in a folder and tell whose each one is.

Two layouts are accepted:

- nbgrader's ``submitted/<student>/<workshop>/<notebook>.ipynb`` (other files in that
  folder travel with the notebook into the kernel's working directory);
- a flat folder of ``.ipynb`` files as downloaded from an LMS or from Colab, the student id
  taken from the file name: ``alice.ipynb``, ``alice_workshop1.ipynb``,
  ``Copy of workshop1 - alice.ipynb``, ``workshop1 (alice) (1).ipynb`` all belong to
  ``alice`` ("Copy of" in several languages, the workshop and notebook names, and download
  counters like ``(1)`` are removed).

A file whose name leaves no student id is skipped with a reason; when two files belong to
the same student, the most recently modified one is graded and the other is reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from chdml.errors import UserError, describe_path

COPY_PREFIX = re.compile(
    r"^(copy of|copia de|copie de|c[oó]pia de|kopie von|kopia|copia di|kopie van)\s+",
    re.IGNORECASE)
DOWNLOAD_COUNTER = re.compile(r"\s*[\(\[]\d+[\)\]]\s*$|(?<=\D)-\d+$")
SEPARATORS = " _-.,;()[]"
MAX_EXTRA_BYTES = 50 << 20


@dataclass
class Submission:
    """One student's notebook (and, in nbgrader's layout, the files beside it)."""

    student: str
    notebook: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Found:
    """What :func:`find_submissions` found: submissions and skipped files with reasons."""

    submissions: list[Submission]
    skipped: list[str] = field(default_factory=list)


def student_from_filename(stem: str, names: list[str]) -> str:
    """The student id in a notebook's file name ``stem`` ('' if none is left).

    ``names`` are the workshop's own names (workshop, notebook) to remove.
    """
    text = stem.strip()
    while True:
        before = text
        text = COPY_PREFIX.sub("", text).strip()
        text = DOWNLOAD_COUNTER.sub("", text).strip()
        if text == before:
            break
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        pattern = re.compile(rf"(^|[{re.escape(SEPARATORS)}]){re.escape(name)}"
                             rf"(?=$|[{re.escape(SEPARATORS)}])", re.IGNORECASE)
        text = pattern.sub(r"\1", text)
    text = re.sub(r"\s+", " ", text).strip(SEPARATORS)
    text = re.sub(r"[\(\)\[\]]", "", text).strip(SEPARATORS)
    return text


def safe_name(student: str) -> str:
    """A file-name-safe version of a student id (for feedback and journal files)."""
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", student).strip("._") or "student"


def _extra_files(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.iterdir())
            if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb"
            and not path.name.startswith(".") and path.stat().st_size <= MAX_EXTRA_BYTES]


def find_submissions(folder: Path, workshop: str, notebook_name: str) -> Found:
    """Every submission of ``workshop`` in ``folder`` (see the module doc)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"the submissions folder {describe_path(folder)} does not exist; "
                        "pass nbgrader's submitted/ folder or a folder of .ipynb files.")
    nested = sorted(path for path in folder.glob(f"*/{workshop}") if path.is_dir())
    if nested:
        found = _nbgrader_layout(nested, notebook_name)
    else:
        found = _flat_layout(folder, workshop, notebook_name)
    if not found.submissions and not found.skipped:
        raise UserError(f"no notebooks in {describe_path(folder)}: expected "
                        f"<student>/{workshop}/{notebook_name} (nbgrader) or .ipynb files.")
    return found


def _nbgrader_layout(folders: list[Path], notebook_name: str) -> Found:
    found = Found(submissions=[])
    for folder in folders:
        student = folder.parent.name
        notebooks = sorted(folder.glob("*.ipynb"))
        exact = folder / notebook_name
        if exact.is_file():
            chosen, notes = exact, []
        elif len(notebooks) == 1:
            chosen = notebooks[0]
            notes = [f"graded '{chosen.name}' (expected '{notebook_name}')"]
        else:
            found.skipped.append(f"{folder}: no '{notebook_name}' among "
                                 f"{len(notebooks)} notebooks")
            continue
        found.submissions.append(Submission(student, chosen, _extra_files(folder), notes))
    return found


def _flat_layout(folder: Path, workshop: str, notebook_name: str) -> Found:
    found = Found(submissions=[])
    by_student: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.ipynb")):
        student = student_from_filename(path.stem, [workshop, Path(notebook_name).stem])
        if not student:
            found.skipped.append(f"{path.name}: cannot tell whose notebook this is; rename it "
                                 "to <student>.ipynb")
            continue
        by_student.setdefault(student, []).append(path)
    for student, paths in sorted(by_student.items()):
        paths.sort(key=lambda path: (path.stat().st_mtime, path.name))
        newest = paths[-1]
        notes = ([f"{len(paths)} files for this student; graded the newest, '{newest.name}'"]
                 if len(paths) > 1 else [])
        found.submissions.append(Submission(student, newest, [], notes))
    return found
