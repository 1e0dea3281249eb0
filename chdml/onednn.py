"""Switch on TensorFlow's oneDNN CPU kernels where TensorFlow leaves them off.

TensorFlow uses oneDNN for convolutions by itself only on CPUs with AVX512_VNNI,
AVX512_BF16 or AMX. On the many CPUs without (most laptops; any AVX2-only machine) it
falls back to slower kernels: on a 2-vCPU AVX2-only AMD EPYC one training step of the
default U-Net took 0.35-0.38 s with oneDNN against 0.50-0.55 s without (1.4x;
``bench/RESULTS.md``, "Training throughput"). With a time budget that is 1.4x more
training in the same minutes.

The switch is the environment variable ``TF_ENABLE_ONEDNN_OPTS``, read once when
TensorFlow is imported, so :func:`use_onednn` must run before that. A value the user
set (``TF_ENABLE_ONEDNN_OPTS=0`` to compare, or to reproduce older numbers) is kept.
Results change only by floating-point rounding.
"""
from __future__ import annotations

import os
import sys

VARIABLE = "TF_ENABLE_ONEDNN_OPTS"


def use_onednn(environ=os.environ) -> bool:
    """Ask for oneDNN in ``environ`` unless it says otherwise; ``True`` if it will apply.

    Returns ``False`` where TensorFlow is imported already (the variable then changes
    nothing in this process, so it is left alone, not to leak into child processes such
    as Jupyter kernels) or where the user set the variable to anything but ``1``.
    """
    if "tensorflow" in sys.modules:
        return False
    environ.setdefault(VARIABLE, "1")
    return environ[VARIABLE] == "1"
