"""The ``chdml`` command line: a thin argparse layer over the library.

Each command calls one function with keyword arguments (``chdml data synth`` ->
:func:`chdml.data.synth.main`), imported only when the command runs, so that
``chdml --help`` is instant and does not load TensorFlow. A :class:`UserError` is
printed as one sentence with exit code 2; Ctrl-C exits with 130; both without a
traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from chdml.errors import UserError
from chdml.onednn import use_onednn

PROG = "chdml"


def _quiet_tensorflow() -> None:
    """Hide TensorFlow's start-up chatter (oneDNN, CUDA probing) from users."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")


TENSORFLOW_COMMANDS = {"train", "predict", "evaluate", "build", "grade", "demo"}
# Commands that get TensorFlow's faster oneDNN kernels on CPUs where it leaves them off
# (chdml.onednn). Not the course commands: the notebooks' self-check data and the
# graders' reference numbers are computed as they always were.
ONEDNN_COMMANDS = {"train", "predict", "evaluate"}


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up log lines hidden.

    TensorFlow 2.20+ prints oneDNN/CUDA notes to the process's stderr before its logging is
    configured, whatever ``TF_CPP_MIN_LOG_LEVEL`` says. They frighten beginners, so the
    import runs with file descriptor 2 pointed at a temporary file; if the import fails,
    that output is replayed so that nothing useful is lost.
    """
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
            tensorflow.constant(0)  # the CUDA probe logs on first use, not on import
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _command(parser: argparse.ArgumentParser, target: str) -> None:
    """Make ``parser`` call ``target`` (``"module:function"``) with its arguments."""
    parser.set_defaults(_target=target)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Machine learning for congenital heart disease cardiac MRI: "
                    "data, reference models, workshop notebooks and their autograder.")
    from chdml import __version__
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    # chdml data ...
    data = commands.add_parser("data", help="make, fetch, convert and check datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    data_commands.required = True

    p = data_commands.add_parser("synth", help="write the synthetic CHD cine dataset")
    p.add_argument("--out", required=True, help="dataset folder to create")
    p.add_argument("--patients", type=int, default=20, help="number of patients (default 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    _command(p, "chdml.data.synth:main")

    p = data_commands.add_parser("fetch", help="download and convert a public dataset")
    p.add_argument("name", choices=["karimi2020"], help="dataset name")
    p.add_argument("--out", required=True, help="dataset folder to create")
    p.add_argument("--structure", required=True, type=str.upper, help="LV or RV")
    p.add_argument("--base-url", default=None,
                   help="mirror to download from (http://, https:// or file://)")
    p.add_argument("--cache", default=None,
                   help="download cache folder (default: $CHDML_CACHE or ~/.cache/chdml)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    p.add_argument("--split", default="all", choices=["all", "train", "test"],
                   help="official split to fetch: all (default; 26 train + 38 test), "
                        "train or test")
    p.add_argument("--resampling", default="nearest", choices=["nearest", "bicubic"],
                   help="the authors' down-sampling of the images (default nearest)")
    _command(p, "chdml.data.karimi:main")

    p = data_commands.add_parser("convert-dicom",
                                 help="DICOM series folder -> de-identified NIfTI")
    p.add_argument("src", help="folder with the DICOM files of one series")
    p.add_argument("dst", help="NIfTI file to write (.nii.gz); a .json sidecar goes beside it")
    p.add_argument("--series", default=None,
                   help="SeriesNumber or SeriesInstanceUID to convert when SRC holds several")
    p.add_argument("--frame", type=int, default=None,
                   help="cine series: the frame (cardiac phase, 0 = first) to convert")
    p.add_argument("--overwrite", action="store_true", help="replace an existing DST")
    _command(p, "chdml.data.dicom:main")

    p = data_commands.add_parser("check", help="report every problem in a dataset folder")
    p.add_argument("folder", help="dataset folder")
    _command(p, "chdml.data.check:main")

    # models
    p = commands.add_parser("train", help="train a reference model")
    p.add_argument("task", choices=["classifier", "segmentation"])
    p.add_argument("--data", required=True, help="dataset folder (imagesTr/labelsTr)")
    p.add_argument("--out", required=True, help="model file to write (.keras)")
    p.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    p.add_argument("--members", type=int, default=None,
                   help="segmentation: how many U-Nets to train and average (default 3, "
                        "see chdml.train; 1 trains a single U-Net in a third of the time)")
    p.add_argument("--validation", type=float, default=None, metavar="FRACTION",
                   help="segmentation: hold out this fraction of the patients (e.g. 0.12) "
                        "to keep the best epoch and stop early (default 0: learn from "
                        "every patient and keep the last epoch, see chdml.train)")
    p.add_argument("--minutes", type=float, default=None,
                   help="segmentation: time budget of the whole training on this computer "
                        "(default 20); where the default would take longer, fewer U-Nets "
                        "or fewer steps are trained and a message says so. 0 = no limit")
    p.add_argument("--seed", type=int, default=0)
    _command(p, "chdml.train:main")

    p = commands.add_parser("predict", help="predict masks or classes with a model")
    p.add_argument("--model", required=True, help="model file (.keras)")
    p.add_argument("--data", required=True, help="dataset folder")
    p.add_argument("--out", required=True, help="folder for predictions")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    _command(p, "chdml.predict:main")

    p = commands.add_parser("evaluate", help="metrics of a model on a dataset")
    p.add_argument("--model", required=True, help="model file (.keras)")
    p.add_argument("--data", required=True, help="dataset folder")
    p.add_argument("--out", default=None, help="folder for metrics.json/.csv and plots")
    _command(p, "chdml.evaluate:main")

    # course
    p = commands.add_parser("build", help="build release/ from source/ and prove the checks")
    p.add_argument("workshop", nargs="?", default=None, help="one workshop (default: all)")
    p.add_argument("--check", action="store_true",
                   help="change nothing; fail if release/ is stale or a proof fails")
    p.add_argument("--course", default=".", help="course folder (default: current)")
    _command(p, "chdml.grading.build:main")

    p = commands.add_parser("grade", help="grade a folder of returned notebooks")
    p.add_argument("workshop")
    p.add_argument("submissions", help="nbgrader submitted/ folder or a flat folder of .ipynb")
    p.add_argument("--out", required=True, help="folder for grades.csv, feedback, summary")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per notebook (default 900)")
    p.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    p.add_argument("--course", default=".", help="course folder (default: current)")
    p.add_argument("--cell-timeout", type=float, default=None,
                   help="seconds per cell (default 300)")
    p.add_argument("--memory-limit", type=float, default=None,
                   help="megabytes of memory per notebook (default 4096)")
    _command(p, "chdml.grading.batch:main")

    p = commands.add_parser("demo", help="the whole story on built-in data")
    p.add_argument("--out", default="demo_output", help="folder for the demo's files")
    _command(p, "chdml.demo:main")
    return parser


def run(argv: list[str] | None = None, own_process: bool = False) -> int:
    """Parse ``argv`` and run the command; return the exit code.

    ``own_process``: this process runs nothing but this command (the ``chdml`` program,
    :func:`main`). Only then do the training commands switch on oneDNN
    (:mod:`chdml.onednn`): the switch holds for the whole process and its children, so
    in-process callers (tests, notebooks, benchmarks) keep what they chose.
    """
    parser = build_parser()
    args = vars(parser.parse_args(argv))
    target = args.pop("_target")
    command = args.pop("command", None)
    args.pop("data_command", None)
    module_name, function_name = target.split(":")
    _quiet_tensorflow()
    if own_process and command in ONEDNN_COMMANDS:
        use_onednn()
    try:
        if command in TENSORFLOW_COMMANDS:
            _import_tensorflow_quietly()
        function = getattr(importlib.import_module(module_name), function_name)
        result = function(**args)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    return int(result or 0)


def main() -> None:
    sys.exit(run(own_process=True))
