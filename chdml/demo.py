"""``chdml demo``: the whole story on built-in data, end to end.

1. **Data**: write a small synthetic CHD cine set (``chdml data synth``), check it
   (``chdml data check``) and draw a few cases with their labels (PNG).
2. **Course**: build the student version of one workshop from ``source/`` (``chdml build``,
   with its proofs: the solutions pass every check, the blank notebook scores zero, nothing
   secret leaks).
3. **Students**: "submit" three notebooks made from the released one, as an instructor would
   download them from an LMS: a perfect one, a partly wrong one (two typical beginner
   mistakes) and a broken one (a file that is not a notebook any more).
4. **Grading**: grade them (``chdml grade``) and print the gradebook, and where the feedback
   and the summary plot are.

Run it from the course folder (the repository root): ``make demo`` or ``chdml demo``.
Everything it writes goes to ``--out`` (default ``demo_output/``), except what ``chdml build``
rewrites by design (``release/`` and the self-check data, identical when up to date) and the
scores it adds to the course gradebook.
"""
from __future__ import annotations

import copy
import csv
import json
import shutil
import time
from pathlib import Path

from chdml.errors import UserError, describe_path

WORKSHOP = "workshop1"
PATIENTS = 6
# Two typical beginner mistakes for the "partly wrong" student: solution cell id -> code.
MISTAKES = {
    "steps-per-epoch": (
        "def steps_per_epoch(n_samples, batch_size):\n"
        '    """Number of batches in one epoch."""\n'
        "    return n_samples // batch_size   # forgets the last, partial batch\n"),
    "conv2d": (
        "import numpy as np\n\n\n"
        "def conv2d(image, kernel):\n"
        '    """A true convolution: the kernel is flipped (Keras does not flip it)."""\n'
        "    image = np.asarray(image, dtype=float)\n"
        "    kernel = np.asarray(kernel, dtype=float)[::-1, ::-1]\n"
        "    rows = image.shape[0] - kernel.shape[0] + 1\n"
        "    columns = image.shape[1] - kernel.shape[1] + 1\n"
        "    output = np.zeros((rows, columns))\n"
        "    for row in range(rows):\n"
        "        for column in range(columns):\n"
        "            window = image[row:row + kernel.shape[0], column:column + kernel.shape[1]]\n"
        "            output[row, column] = np.sum(window * kernel)\n"
        "    return output\n"),
}


def _step(number: int, text: str) -> float:
    print(f"\n=== {number}. {text}", flush=True)
    return time.perf_counter()


def _done(started: float) -> None:
    print(f"    ({time.perf_counter() - started:.0f} s)", flush=True)


def show_data(out: Path) -> Path:
    """Synthesise a small dataset into ``out/data``, check it, draw a gallery PNG."""
    from chdml.data import synth
    from chdml.data.check import check_folder, format_report
    from chdml.data.folder import image_path, label_path, read_cases
    from chdml.data.nifti import load_image, load_label
    from chdml.plots import plot_gallery

    data = out / "data"
    synth.main(out=str(data), patients=PATIENTS, seed=0, overwrite=True)
    problems = check_folder(data, progress=False)
    if problems:  # the generator's output must be clean; say so loudly if it is not
        raise RuntimeError("the synthetic dataset has problems:\n" + format_report(problems))
    records = read_cases(data)
    print(f"    {len(records)} cases of {PATIENTS} patients in {data}; "
          "'chdml data check' finds no problems")
    shown = [r for r in records if r.phase == "ED"][:8]
    images, masks, titles = [], [], []
    for record in shown:
        image = load_image(image_path(data, record)).array
        mask = load_label(label_path(data, record)).array
        middle = image.shape[2] // 2
        images.append(image[:, :, middle])
        masks.append(mask[:, :, middle])
        titles.append(f"{record.patient} / {record.diagnosis} / {record.view}")
    picture = out / "synthetic_cases.png"
    plot_gallery(images, masks, titles, columns=4,
                 title="Synthetic CHD cine MRI (end-diastole) with labels", path=picture)
    print(f"    picture of {len(shown)} cases with their labels: {picture}")
    return picture


def make_submissions(course: Path, out: Path) -> Path:
    """Write a perfect, a partly wrong and a broken submission into ``out/submissions``."""
    source = json.loads((course / "source" / WORKSHOP / f"{WORKSHOP}.ipynb").read_text())
    release = json.loads((course / "release" / WORKSHOP / f"{WORKSHOP}.ipynb").read_text())
    solutions = {cell.get("id"): cell["source"] for cell in source["cells"]
                 if cell.get("metadata", {}).get("nbgrader", {}).get("solution")}
    missing = set(MISTAKES) - set(solutions)
    if missing:
        raise RuntimeError(f"the demo's mistakes refer to cells {sorted(missing)} that "
                           f"source/{WORKSHOP} no longer has; update chdml/demo.py")

    def filled(replacements: dict[str, str]) -> dict:
        notebook = copy.deepcopy(release)
        for cell in notebook["cells"]:
            if cell.get("id") in solutions:
                cell["source"] = replacements.get(cell["id"], solutions[cell["id"]])
        return notebook

    folder = out / "submissions"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / f"ada_lovelace_{WORKSHOP}.ipynb").write_text(json.dumps(filled({}), indent=1))
    (folder / f"Copy of bob_builder_{WORKSHOP}.ipynb").write_text(
        json.dumps(filled(MISTAKES), indent=1))
    broken = json.dumps(filled({}), indent=1)
    (folder / f"carol_crash_{WORKSHOP}.ipynb").write_text(broken[: len(broken) // 3])
    for path in sorted(folder.iterdir()):
        print(f"    {path.name}")
    return folder


def print_gradebook(grades_csv: Path) -> None:
    """Print ``grades.csv`` as an aligned table."""
    with grades_csv.open(newline="") as handle:
        rows = list(csv.reader(handle))
    keep = [i for i, name in enumerate(rows[0]) if name not in ("notes",)]
    table = [[row[i] for i in keep] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(keep))]
    for row in table:
        print("    " + "  ".join(value.ljust(width) for value, width in zip(row, widths)))
    notes = rows[0].index("notes") if "notes" in rows[0] else None
    if notes is not None:
        for row in rows[1:]:
            if row[notes]:
                print(f"    note for {row[0]}: {row[notes]}")


def main(out: str = "demo_output") -> int:
    """Run the demo; see the module docstring."""
    from chdml.grading import batch, build

    course = Path.cwd()
    if not (course / "source" / WORKSHOP).is_dir() or not (course / "autograder").is_dir():
        raise UserError(f"{describe_path(course)} is not the chdml course folder (no "
                        f"source/{WORKSHOP}); run 'make demo' or 'chdml demo' from the "
                        "repository root.")
    out_folder = Path(out).resolve()
    out_folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    t = _step(1, "Data: synthesise, check and look at a small CHD cine set")
    show_data(out_folder)
    _done(t)

    t = _step(2, f"Course: build the student version of {WORKSHOP} (with its proofs)")
    code = build.main(workshop=WORKSHOP, check=False, course=str(course))
    if code:
        return code
    _done(t)

    t = _step(3, "Students: a perfect, a partly wrong and a broken submission")
    submissions = make_submissions(course, out_folder)
    _done(t)

    t = _step(4, "Grading: every submission in a fresh, sandboxed kernel")
    grades = out_folder / "grades"
    code = batch.main(workshop=WORKSHOP, submissions=str(submissions), out=str(grades),
                      force=True, course=str(course))
    if code:
        return code
    _done(t)

    print("\n=== The gradebook (grades.csv)")
    print_gradebook(grades / "grades.csv")
    print(f"\nFeedback for each student (HTML): {grades / 'feedback'}")
    print(f"Summary plot (pass rate per exercise): {grades / 'summary.png'}")
    print(f"Picture of the synthetic data: {out_folder / 'synthetic_cases.png'}")
    print(f"Demo finished in {time.perf_counter() - started:.0f} s.")
    return 0
