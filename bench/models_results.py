"""Write benchmark tables into the "models" section of ``bench/RESULTS.md``.

Each benchmark owns one ``### <title>`` subsection inside ``## models``; rerunning it
replaces that subsection only (other helpers' sections and other subsections are kept).
"""
from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## models: reference models, training, prediction"


def machine() -> str:
    """One line describing this machine and its load."""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        accelerator = f", {len(gpus)} GPU(s)" if gpus else ", no GPU"
        tf_version = f", TensorFlow {tf.__version__}{_onednn_state()}"
    except Exception:  # pragma: no cover
        accelerator = tf_version = ""
    load = os.getloadavg()[0]
    return (f"{platform.node() or 'host'}: {cpu}{_vector_units()}, {os.cpu_count()} vCPUs"
            f"{accelerator}"
            f"{tf_version}, Python {platform.python_version()}, load average {load:.1f} "
            "at the end of the run")


def _vector_units() -> str:
    """ " (AVX512-BF16)", " (AVX-512)" or " (AVX2 only)": what decides TensorFlow's CPU speed."""
    try:
        flags = set(next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        return ""
    for flag, name in (("avx512_bf16", "AVX512-BF16"), ("avx512f", "AVX-512"),
                       ("avx2", "AVX2 only")):
        if flag in flags:
            return f" ({name})"
    return ""


def _onednn_state() -> str:
    """ ", oneDNN on" or ", oneDNN off" (TensorFlow's own answer; see chdml.onednn)."""
    try:
        from tensorflow.python.util import _pywrap_util_port  # private, hence the guard

        return ", oneDNN on" if _pywrap_util_port.IsMklEnabled() else ", oneDNN off"
    except Exception:  # pragma: no cover
        return ""


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=RESULTS.parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_section(title: str, body: str, command: str) -> None:
    """Replace (or add) ``### title`` in the models section of RESULTS.md."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    block = (f"### {title}\n\nCommand: `{command}`  \nMachine: {machine()}  \n"
             f"Commit: {git_commit()}\n\n{body.strip()}\n")
    if SECTION not in text:
        text = text.rstrip() + f"\n\n{SECTION}\n\n"
    start = text.index(SECTION) + len(SECTION)
    next_section = re.search(r"^## ", text[start:], flags=re.M)
    end = start + next_section.start() if next_section else len(text)
    section = text[start:end]
    pattern = re.compile(rf"^### {re.escape(title)}\n.*?(?=^### |\Z)", flags=re.M | re.S)
    if pattern.search(section):
        section = pattern.sub(lambda _: block + "\n", section)
    else:
        section = section.rstrip() + "\n\n" + block + "\n"
    text = text[:start] + section + text[end:]
    tmp = RESULTS.with_suffix(".md.part")
    tmp.write_text(text.rstrip() + "\n", encoding="utf-8")
    os.replace(tmp, RESULTS)
