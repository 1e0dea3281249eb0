"""What a beginner reads when a case fails: given, expected, got, hint.

Public cases show all four parts. Hidden cases show only the case description and the
hint: never their inputs, expected values or the student's value on them (those would
reveal the hidden inputs).
"""
from __future__ import annotations

from chdml.grading.compare import Verdict, describe


def describe_inputs(inputs: dict, limit: int = 300) -> str:
    """``name = value`` for each input, shortened (arrays as shape + first values)."""
    parts = [f"{name} = {describe(value, 120)}" for name, value in inputs.items()]
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _part(label: str, text: str) -> str:
    """``label`` and ``text``, continuation lines indented under the text."""
    return f"{label:<10}" + text.replace("\n", "\n" + " " * 10)


def public_failure(description: str, inputs: dict, verdict: Verdict, hint: str) -> str:
    """The four-part message for a failed public case."""
    given = f"{description}\n({describe_inputs(inputs)})" if inputs else description
    lines = [_part("Given:", given), _part("Expected:", verdict.expected),
             _part("Got:", verdict.got)]
    if hint:
        lines.append(_part("Hint:", hint))
    return "\n".join(lines)


def hidden_failure(description: str, hint: str) -> str:
    """The message for a failed hidden case: its description and the hint only."""
    text = f"Hidden case not passed: {description}"
    return f"{text}\nHint: {hint}" if hint else text


def case_message(*, public: bool, passed: bool, description: str, inputs: dict,
                 verdict: Verdict | None, hint: str) -> str:
    """The message shown for a case in feedback (empty when it passed)."""
    if passed:
        return ""
    if public and verdict is not None:
        return public_failure(description, inputs, verdict, hint)
    return hidden_failure(description, hint)

