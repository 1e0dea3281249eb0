"""Put a returned notebook's protected cells back as the instructor wrote them.

Protected cells are the source notebook's nbgrader cells that are locked or graded and not
solution cells: check cells (``grader.check("<exercise>")``), setup and data cells, locked
instructions. In a submission they are matched by nbgrader ``grade_id``; an edited one is
replaced by the source version, a deleted one is put back after the nearest cell that
precedes it in the source, a duplicate is dropped. Each change is recorded; a changed or
missing *code* cell counts as tampering (a changed markdown cell is only noted, since
students can edit those by accident in Colab).

Also here: finding which check cell belongs to which exercise, and blanking ``%pip``-style
install lines, which the grader never runs.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

CHECK_CALL = re.compile(r"""grader\.check\(\s*["']([A-Za-z0-9_]+)["']\s*\)""")
INSTALL_LINE = re.compile(r"^\s*[%!]\s*(pip|pip3|conda|mamba|uv)\b.*$", re.MULTILINE)


def nbgrader_meta(cell: dict) -> dict:
    """The cell's nbgrader metadata (empty dict if none or malformed)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_protected(cell: dict) -> bool:
    """Locked or graded, and not a solution cell (the student must not change it)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade_id")) and not meta.get("solution", False) and bool(
        meta.get("locked", False) or meta.get("grade", False))


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    return "\n".join(line.rstrip() for line in str(source).strip().splitlines())


def check_cells(notebook: dict) -> dict[str, list[str]]:
    """``{exercise: [grade_id, ...]}`` of the protected code cells calling ``grader.check``."""
    found: dict[str, list[str]] = {}
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code" and is_protected(cell):
            for exercise in CHECK_CALL.findall(_text(cell)):
                found.setdefault(exercise, []).append(nbgrader_meta(cell)["grade_id"])
    return found


@dataclass
class Restored:
    """A submission with its protected cells put back, and what had to be changed."""

    cells: list[dict]
    notes: list[str] = field(default_factory=list)
    tampered: bool = False


def restore(source: dict, submission_cells: list[dict]) -> Restored:
    """Restore ``source``'s protected cells in ``submission_cells`` (see the module doc)."""
    protected = {nbgrader_meta(cell)["grade_id"]: cell for cell in source["cells"]
                 if is_protected(cell)}
    result = Restored(cells=[])
    seen: set[str] = set()
    for cell in submission_cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id not in protected:
            result.cells.append(cell)
            continue
        original = protected[grade_id]
        if grade_id in seen:
            result.notes.append(f"a copy of locked cell '{grade_id}' was removed")
            result.tampered |= original["cell_type"] == "code"
            continue
        seen.add(grade_id)
        if cell.get("cell_type") != original["cell_type"] or _text(cell) != _text(original):
            result.notes.append(f"locked cell '{grade_id}' was edited; the original was run")
            result.tampered |= original["cell_type"] == "code"
        result.cells.append(_fresh(original))
    source_ids = [nbgrader_meta(cell).get("grade_id") for cell in source["cells"]]
    for position, grade_id in enumerate(source_ids):
        if grade_id not in protected or grade_id in seen:
            continue
        anchor = _insertion_point(result.cells, source_ids[:position])
        result.cells.insert(anchor, _fresh(protected[grade_id]))
        seen.add(grade_id)
        result.notes.append(f"locked cell '{grade_id}' was deleted; it was put back")
        result.tampered |= protected[grade_id]["cell_type"] == "code"
    return result


def _insertion_point(cells: list[dict], earlier_ids: list[str | None]) -> int:
    """Index just after the last cell whose grade_id is among ``earlier_ids`` (else 0)."""
    for grade_id in reversed(earlier_ids):
        if not grade_id:
            continue
        for index, cell in enumerate(cells):
            if nbgrader_meta(cell).get("grade_id") == grade_id:
                return index + 1
    return 0


def _fresh(cell: dict) -> dict:
    fresh = copy.deepcopy(cell)
    if fresh.get("cell_type") == "code":
        fresh["outputs"] = []
        fresh["execution_count"] = None
    return fresh


def without_installs(code: str) -> str:
    """``code`` with ``%pip``/``!pip``/conda install lines turned into comments."""
    return INSTALL_LINE.sub(lambda match: "# [skipped by the grader] " + match.group(0).strip(),
                            code)
