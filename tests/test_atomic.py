"""Does atomic output leave nothing half-written behind?"""
import pytest

from chdml.atomic import atomic_directory, atomic_path, remove_stale_temporaries, write_text


def test_file_appears_only_after_success(tmp_path):
    dest = tmp_path / "a.txt"
    with atomic_path(dest) as tmp:
        tmp.write_text("hello")
        assert not dest.exists()
    assert dest.read_text() == "hello"


def test_error_leaves_no_file_and_keeps_old(tmp_path):
    dest = tmp_path / "a.txt"
    write_text(dest, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("new, half")
            raise RuntimeError("boom")
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_keyboard_interrupt_in_directory_leaves_nothing(tmp_path):
    dest = tmp_path / "dataset"
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(dest) as tmp:
            (tmp / "part.txt").write_text("x")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_directory_refuses_existing_unless_overwrite(tmp_path):
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "keep").write_text("1")
    with pytest.raises(FileExistsError):
        with atomic_directory(dest) as tmp:
            (tmp / "new").write_text("2")
    assert (dest / "keep").exists()
    with atomic_directory(dest, overwrite=True) as tmp:
        (tmp / "new").write_text("2")
    assert sorted(p.name for p in dest.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_outputs_get_normal_permissions(tmp_path):
    """Are finished files and folders readable by others, as with a plain open()?"""
    import os
    umask = os.umask(0o022)
    try:
        write_text(tmp_path / "f.txt", "x")
        with atomic_directory(tmp_path / "d"):
            pass
    finally:
        os.umask(umask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_a_killed_writers_temporary_is_removed_later(tmp_path):
    """kill -9 inside atomic_path leaves a hidden temporary; only that is removed."""
    import subprocess
    import sys
    script = ("import os, signal, sys\n"
              "from chdml.atomic import atomic_path\n"
              "with atomic_path(sys.argv[1]) as tmp:\n"
              "    tmp.write_text('half')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    write_text(tmp_path / "kept.json", "{}")
    (tmp_path / ".hidden").write_text("not ours")
    (tmp_path / "sub").mkdir()
    killed = subprocess.run([sys.executable, "-c", script, str(tmp_path / "entry.json")])
    assert killed.returncode != 0
    [left] = tmp_path.glob(".entry.json.*.part.json")
    (tmp_path / "sub" / ".deeper.json.abc.part.json").write_text("half")
    assert remove_stale_temporaries(tmp_path) == [left]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", "kept.json", "sub"]
    assert remove_stale_temporaries(tmp_path, recursive=True) == [
        tmp_path / "sub" / ".deeper.json.abc.part.json"]
    assert list((tmp_path / "sub").iterdir()) == []
    assert remove_stale_temporaries(tmp_path / "missing") == []
