"""Does the grader find the answers it kept for inputs it sent to a kernel?"""
import numpy as np
import pytest

from chdml.grading.answers import AnswerBook, fingerprint, view_test_set


def test_is_an_answer_found_again_from_a_copy_of_its_inputs():
    book = AnswerBook("view images")
    images = np.random.default_rng(0).random((3, 8, 8, 1)).astype(np.float32)
    assert book.keep(images, np.array([0, 1, 1])) is images
    assert book.look_up(images.copy()).tolist() == [0, 1, 1]
    assert book.look_up(images.astype(np.float64)).tolist() == [0, 1, 1]   # as sent back


def test_are_other_inputs_refused_with_what_they_are():
    book = AnswerBook("view images")
    book.keep(np.zeros((2, 4)), np.array([1, 0]))
    with pytest.raises(LookupError, match="these view images were not drawn"):
        book.look_up(np.ones((2, 4)))
    with pytest.raises(LookupError):
        book.look_up(np.zeros((4, 2)))    # same values, another shape


def test_do_different_shapes_with_the_same_bytes_differ():
    assert fingerprint(np.zeros((2, 4))) != fingerprint(np.zeros((4, 2)))


def test_is_a_view_test_set_drawn_once_per_process():
    first = view_test_set(6, 28, 1234, "ten_views")
    assert first is view_test_set(6, 28, 1234, "ten_views")
    images, labels = first
    assert images.shape == (6, 28, 28, 1) and images.dtype == np.float32 and labels.shape == (6,)
