"""Shared fixtures: small seeded inputs in temporary folders."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]
# The project's shared folder sits beside the checkout (../shared), or one level higher
# for a git worktree in a subfolder (../../shared); CHDML_SHARED overrides both.
SHARED = Path(os.environ.get("CHDML_SHARED") or next(
    (p for p in (REPO_ROOT.parent / "shared", REPO_ROOT.parents[1] / "shared") if p.is_dir()),
    REPO_ROOT.parent / "shared"))
KARIMI_SHARED = SHARED / "data" / "karimi2020"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def run_cli(capsys):
    """Run ``chdml ARGS`` in-process; return (exit code, stdout, stderr)."""
    from chdml.cli import run

    def _run(*args):
        try:
            code = run([str(a) for a in args])
        except SystemExit as exc:  # argparse errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return _run
