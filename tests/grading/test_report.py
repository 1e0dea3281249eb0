"""Do the summary's "most common failures" count only exercises that actually ran?"""
from chdml.grading.engine import CaseResult, ExerciseResult, NotebookResult
from chdml.grading.report import summarise


def _result(status, reached, passed):
    case = CaseResult(index=0, public=True, description="a 3x3 kernel", points=1,
                      awarded=float(passed), passed=passed)
    exercise = ExerciseResult(name="conv2d", title="Convolution", points=1,
                              awarded=float(passed), reached=reached, cases=[case])
    return NotebookResult(status=status, exercises={"conv2d": exercise})


def test_unreached_exercises_are_not_counted_as_failures():
    results = {"wrong": _result("ok", True, False),
               "broken": _result("invalid_notebook", False, False),
               "right": _result("ok", True, True)}
    rows, common, statuses = summarise(["conv2d"], results)
    assert common == [("conv2d", "a 3x3 kernel", 1)]
    assert rows == [("conv2d", 1 / 3, 1 / 3)]
    assert statuses["invalid_notebook"] == 1
