"""Are the committed student notebooks and self-check data what `chdml build` makes now?

The fast half of `chdml build --check` (which also runs the proofs in real kernels, as the
end-to-end notebook tests do): rebuild each workshop's release notebook and public
self-check data into a scratch folder and compare them with `release/` and
`chdml/selfcheck/`. A failure means a source notebook, a check module or the synthetic
generator changed without `chdml build`.
"""
from pathlib import Path

import pytest

from chdml.grading import build
from chdml.grading.course import load_course

ROOT = Path(__file__).resolve().parents[1]
WORKSHOPS = sorted(path.name for path in (ROOT / "autograder").iterdir()
                   if (path / "__init__.py").is_file())


def test_are_there_four_workshops():
    assert WORKSHOPS == ["workshop1", "workshop2", "workshop3", "workshop4"]


@pytest.mark.parametrize("name", WORKSHOPS)
def test_are_release_and_selfcheck_data_up_to_date(name, tmp_path):
    course = load_course(ROOT)
    built = build.build_workshop(course, name, tmp_path)
    stale = (build.stale_files(built.release, course.release / name)
             + build.stale_files(built.selfcheck, course.selfcheck / name))
    assert stale == [], f"run `chdml build {name}`: " + "; ".join(stale)
