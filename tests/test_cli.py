"""Does the command line answer user mistakes with one sentence and exit code 2?"""
import os
import sys

import pytest

from chdml import cli

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


def test_tensorflow_start_up_chatter_is_hidden(tmp_path):
    """Does a command that loads TensorFlow still answer a mistake in one line?"""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "chdml", "evaluate", "--model",
                           str(tmp_path / "missing.keras"), "--data", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()], proc.stderr
    assert "missing.keras" in proc.stderr and "I0000" not in proc.stderr


# --- oneDNN for the training commands (chdml.onednn) ------------------------------------

def test_use_onednn_asks_for_it_unless_the_user_said_otherwise(monkeypatch):
    from chdml import onednn

    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    env = {}
    assert onednn.use_onednn(env) is True and env == {"TF_ENABLE_ONEDNN_OPTS": "1"}
    env = {"TF_ENABLE_ONEDNN_OPTS": "0"}
    assert onednn.use_onednn(env) is False and env == {"TF_ENABLE_ONEDNN_OPTS": "0"}


def test_use_onednn_leaves_the_environment_alone_once_tensorflow_is_loaded(monkeypatch):
    from chdml import onednn

    monkeypatch.setitem(sys.modules, "tensorflow", object())
    env = {}
    assert onednn.use_onednn(env) is False and env == {}


@pytest.mark.parametrize("command, onednn", [
    (["predict", "--model", "missing.keras", "--data", ".", "--out", "p"], "1"),
    (["build", "--check", "no_such_workshop"], None),
])
def test_training_commands_get_onednn_and_course_commands_do_not(tmp_path, command, onednn):
    """In a fresh process through ``chdml``'s entry point, as users run it.

    The course commands (build, grade, demo) keep computing the self-check data and the
    reference numbers as before; both commands here stop at a user error.
    """
    import subprocess

    script = ("import os, sys; from chdml import cli; sys.argv[0] = 'chdml'\n"
              "try:\n    cli.main()\n"
              "except SystemExit as exit:\n"
              "    print(exit.code, os.environ.get('TF_ENABLE_ONEDNN_OPTS'))")
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    result = subprocess.run([sys.executable, "-c", script, *command], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["2", str(onednn)], result.stderr


def test_in_process_runs_leave_the_onednn_switch_alone(monkeypatch, tmp_path):
    # tests, notebooks and benchmarks that call cli.run keep their own choice
    calls = []
    monkeypatch.setattr(cli, "use_onednn", lambda: calls.append("switched"))
    args = ["predict", "--model", str(tmp_path / "missing.keras"), "--data", str(tmp_path),
            "--out", str(tmp_path / "p")]
    assert cli.run(args) == 2 and calls == []
    assert cli.run(args, own_process=True) == 2 and calls == ["switched"]
