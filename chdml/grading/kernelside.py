"""Run in the student's kernel by ``chdml grade``: produce the student's values for a request.

The grader writes ``<request>/request.json`` (the exercise's producer as data, a time limit
per case) and ``<request>/inputs.{json,npz}`` (the inputs of every case, public and hidden)
into the kernel's working directory and executes::

    __import__("chdml.grading.kernelside").grading.kernelside.produce("<request>", globals())

which writes ``<request>/result.{json,npz}``: one value per case (or an error record). No
expected value ever comes here: the grader judges the result from outside the kernel.
"""
from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

from chdml.grading import producers, wire


class CaseTimeout(Exception):
    """One case took longer than its time limit."""


def _on_alarm(signum, frame):
    raise CaseTimeout("this case took too long (is there an endless loop?)")


def produce(request_folder: str, namespace: dict) -> None:
    """Produce every case's value of the request in ``request_folder`` (see module doc)."""
    folder = Path(request_folder)
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    producer = producers.from_spec(request["producer"])
    all_inputs = wire.load(folder / "inputs")
    seconds = float(request.get("case_seconds") or 0)
    use_alarm = seconds > 0 and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    results = []
    try:
        for inputs in all_inputs:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                results.append(producer(namespace, inputs))
            except CaseTimeout as exc:
                results.append(producers.error_of(exc))
            finally:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, previous)
    wire.save(folder / "result", results)
