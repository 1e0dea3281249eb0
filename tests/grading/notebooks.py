"""Returned notebooks for the tests, made from the toy course's release notebook."""
from __future__ import annotations

import copy
import json
from pathlib import Path


def load(path: Path) -> dict:
    """A notebook with every cell's source as one string."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return notebook


def grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solved(course: Path, skip: tuple[str, ...] = ()) -> dict:
    """The release notebook with the source's solutions, except the exercises in ``skip``."""
    source = {grade_id(cell): cell for cell in load(course / "source/toy/toy.ipynb")["cells"]}
    notebook = load(course / "release/toy/toy.ipynb")
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and grade_id(cell) not in skip:
            cell["source"] = source[grade_id(cell)]["source"]
    return notebook


def blank(course: Path) -> dict:
    return load(course / "release/toy/toy.ipynb")


def insert_after(notebook: dict, after: str | None, code: str) -> dict:
    """A copy with a new (unlocked, unmarked) code cell after cell ``after`` (or at the end)."""
    notebook = copy.deepcopy(notebook)
    cell = {"cell_type": "code", "metadata": {}, "source": code, "outputs": [],
            "execution_count": None}
    ids = [grade_id(c) for c in notebook["cells"]]
    position = ids.index(after) + 1 if after else len(notebook["cells"])
    notebook["cells"].insert(position, cell)
    return notebook


def edit(notebook: dict, target: str, code: str) -> dict:
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        if grade_id(cell) == target:
            cell["source"] = code
    return notebook


def delete(notebook: dict, target: str) -> dict:
    notebook = copy.deepcopy(notebook)
    notebook["cells"] = [cell for cell in notebook["cells"] if grade_id(cell) != target]
    return notebook


def write(folder: Path, name: str, notebook: dict | str) -> Path:
    path = folder / f"{name}.ipynb"
    path.write_text(notebook if isinstance(notebook, str) else json.dumps(notebook),
                    encoding="utf-8")
    return path
