"""Do values cross the kernel/grader boundary intact, and is untrusted input refused?"""
import os

import numpy as np
import pytest

from chdml.grading import wire


def test_does_a_nested_value_survive_a_round_trip(tmp_path):
    value = {"image": np.arange(6, dtype=np.float32).reshape(2, 3), 3: [1, 2.5, "x", None],
             "flags": {True, False}, "scalar": np.int64(7)}
    wire.save(tmp_path / "v", value)
    back = wire.load(tmp_path / "v")
    assert back["image"].dtype == np.float32 and np.array_equal(back["image"], value["image"])
    assert back[3] == [1, 2.5, "x", None]
    assert back["flags"] == {True, False}
    assert back["scalar"] == 7 and isinstance(back["scalar"], int)


def test_do_integer_dict_keys_stay_integers():
    assert wire.plain({0: 12, 1: 3}) == {0: 12, 1: 3}


def test_are_tensor_like_objects_turned_into_arrays():
    class Tensor:
        def numpy(self):
            return np.ones(2)

    assert np.array_equal(wire.plain(Tensor()), np.ones(2))


def test_are_objects_that_cannot_be_checked_marked_unsupported():
    assert wire.plain((x for x in [])) == wire.Unsupported("generator")
    ragged = np.array([[1], [1, 2]], dtype=object)
    assert isinstance(wire.plain(ragged), wire.Unsupported)


def test_is_the_npz_file_byte_for_byte_reproducible(tmp_path):
    wire.save(tmp_path / "a", {"x": np.arange(5)})
    wire.save(tmp_path / "b", {"x": np.arange(5)})
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_is_a_planted_symlink_refused(tmp_path):
    (tmp_path / "secret").write_text("{}")
    os.symlink(tmp_path / "secret", tmp_path / "v.json")
    with pytest.raises(OSError):
        wire.read_untrusted(tmp_path / "v.json")


def test_is_a_fifo_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "v.json")
    with pytest.raises(ValueError, match="not a regular file"):
        wire.read_untrusted(tmp_path / "v.json")


def test_is_an_oversized_file_refused(tmp_path):
    (tmp_path / "v.json").write_bytes(b"0" * 2000)
    with pytest.raises(ValueError, match="larger"):
        wire.read_untrusted(tmp_path / "v.json", max_bytes=1000)


def test_is_an_npz_that_would_decompress_too_far_refused(tmp_path):
    wire.write_npz(tmp_path / "big.npz", {"a": np.zeros(100_000)})
    data = (tmp_path / "big.npz").read_bytes()
    assert len(data) < 10_000
    with pytest.raises(ValueError, match="would take"):
        wire.load_npz_bytes(data, max_bytes=100_000)


def test_are_pickled_object_arrays_never_loaded(tmp_path):
    np.savez(tmp_path / "evil.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError):
        wire.load_npz_bytes((tmp_path / "evil.npz").read_bytes())
