"""Does the command line answer user mistakes with one sentence and exit code 2?"""
def test_help_lists_the_agreed_commands(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    for command in ("data", "train", "predict", "evaluate", "build", "grade", "demo"):
        assert command in out


def test_unknown_command_exits_2(run_cli):
    code, _, err = run_cli("frobnicate")
    assert code == 2 and "invalid choice" in err


def test_user_error_is_one_line_on_stderr_without_traceback(tmp_path):
    """A user mistake run the way users run it: `python -m chdml`, a real process."""
    import subprocess
    import sys

    missing = tmp_path / "no_such_dataset"
    result = subprocess.run([sys.executable, "-m", "chdml", "data", "check", str(missing)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("chdml: error:") and str(missing) in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not missing.exists()


def test_data_check_exit_codes(run_cli, tmp_path):
    from tests.data.conftest import make_dataset

    make_dataset(tmp_path / "d", patients=2)
    code, out, _ = run_cli("data", "check", tmp_path / "d")
    assert code == 0 and "OK: no problems" in out
    (tmp_path / "d" / "labelsTr" / "p001_ES.nii.gz").unlink()
    code, out, _ = run_cli("data", "check", tmp_path / "d")
    assert code == 1 and "imagesTr/p001_ES_0000.nii.gz" in out
