"""Does the demo make the three submissions it promises from the real workshop files?"""
import json

import pytest

from chdml import demo


def test_submissions_are_perfect_partly_wrong_and_broken(repo_root, tmp_path):
    folder = demo.make_submissions(repo_root, tmp_path)
    files = {path.name: path for path in folder.iterdir()}
    assert len(files) == 3
    source = json.loads((repo_root / "source" / demo.WORKSHOP / f"{demo.WORKSHOP}.ipynb").read_text())
    solutions = {c["id"]: c["source"] for c in source["cells"]
                 if c.get("metadata", {}).get("nbgrader", {}).get("solution")}

    perfect = json.loads(files[f"ada_lovelace_{demo.WORKSHOP}.ipynb"].read_text())
    filled = {c["id"]: c["source"] for c in perfect["cells"] if c["id"] in solutions}
    assert filled == solutions

    wrong = json.loads(files[f"Copy of bob_builder_{demo.WORKSHOP}.ipynb"].read_text())
    changed = {c["id"] for c in wrong["cells"] if c["id"] in solutions
               and c["source"] != solutions[c["id"]]}
    assert changed == set(demo.MISTAKES)

    with pytest.raises(json.JSONDecodeError):
        json.loads(files[f"carol_crash_{demo.WORKSHOP}.ipynb"].read_text())


def test_demo_outside_the_course_folder_is_one_sentence(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli("demo", "--out", tmp_path / "out")
    assert code == 2 and "repository root" in err and "Traceback" not in err
