"""Does the command line answer user mistakes with one sentence and exit code 2?"""
def test_help_lists_the_agreed_commands(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    for command in ("data", "train", "predict", "evaluate", "build", "grade", "demo"):
        assert command in out


def test_unknown_command_exits_2(run_cli):
    code, _, err = run_cli("frobnicate")
    assert code == 2 and "invalid choice" in err
