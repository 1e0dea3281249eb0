"""A course folder: where sources, releases, checks and self-check data live.

The course folder holds ``nbgrader_config.py`` (nbgrader's settings plus chdml's own under
``c.ChdmlCourse``), ``source/<workshop>/``, ``release/<workshop>/`` and
``autograder/<workshop>/``. chdml's settings::

    c.ChdmlCourse.repository_url = "https://github.com/OWNER/chdml"  # Colab badge, %pip
    c.ChdmlCourse.branch = "main"
    c.ChdmlCourse.selfcheck_directory = "chdml/selfcheck"  # package data, relative to root
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from traitlets import Unicode
from traitlets.config import Configurable

from chdml.errors import UserError, describe_path

CONFIG_FILE = "nbgrader_config.py"


class ChdmlCourse(Configurable):
    """chdml's settings in ``nbgrader_config.py`` (``c.ChdmlCourse.<name> = ...``)."""

    repository_url = Unicode(
        "https://github.com/chdml/chdml",
        help="Public git repository of the course: the Colab badge opens release/ "
             "notebooks from it and the %pip cell installs chdml from it.").tag(config=True)
    branch = Unicode("main", help="Branch the badge and the %pip cell use.").tag(config=True)
    selfcheck_directory = Unicode(
        "chdml/selfcheck",
        help="Where `chdml build` writes the self-check data, relative to the course "
             "folder (the package data folder of chdml itself).").tag(config=True)


@dataclass(frozen=True)
class Course:
    """Paths and settings of a course folder (see the module doc)."""

    root: Path
    config: object  # traitlets Config, as loaded from nbgrader_config.py
    settings: ChdmlCourse

    @property
    def source(self) -> Path:
        return self.root / self._course_path("source_directory", "source")

    @property
    def release(self) -> Path:
        return self.root / self._course_path("release_directory", "release")

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def selfcheck(self) -> Path:
        return self.root / self.settings.selfcheck_directory

    @property
    def gradebook_url(self) -> str:
        """The nbgrader gradebook database URL, with a relative sqlite path made absolute."""
        url = str(self.config.CourseDirectory.get("db_url", "sqlite:///gradebook.db"))
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
            return prefix + str(self.root / url[len(prefix):])
        return url

    def private_files(self) -> list[Path]:
        """Course paths a student's code must never see: the gradebook and nbgrader's
        folders of returned, graded and feedback notebooks."""
        paths = [self.root / self._course_path(name, default) for name, default in (
            ("submitted_directory", "submitted"), ("autograded_directory", "autograded"),
            ("feedback_directory", "feedback"))]
        url = self.gradebook_url
        if url.startswith("sqlite:///"):
            paths.append(Path(url[len("sqlite:///"):]))
        return paths

    def _course_path(self, name: str, default: str) -> str:
        return str(self.config.CourseDirectory.get(name, default))

    def workshops(self) -> list[str]:
        """Workshops that have both a source folder and checks, sorted by name."""
        if not self.source.is_dir():
            return []
        return sorted(path.name for path in self.source.iterdir()
                      if path.is_dir() and (self.autograder / path.name).is_dir())

    def require_workshop(self, workshop: str) -> None:
        """Raise :class:`UserError` unless ``workshop`` has a source folder and checks."""
        if not (self.source / workshop).is_dir():
            raise UserError(f"no workshop '{workshop}': {describe_path(self.source / workshop)}"
                            " does not exist; check the name or the --course folder.")
        if not (self.autograder / workshop).is_dir():
            raise UserError(f"workshop '{workshop}' has no checks: create "
                            f"{describe_path(self.autograder / workshop)} (see "
                            "autograder/README.md).")


def load_course(root: os.PathLike | str = ".") -> Course:
    """Read ``<root>/nbgrader_config.py``; :class:`UserError` if missing or broken."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    config_path = root / CONFIG_FILE
    if not config_path.is_file():
        raise UserError(f"{describe_path(config_path)} does not exist; run this in the course "
                        "folder or pass --course.")
    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    except Exception as exc:
        raise UserError(f"cannot read {describe_path(config_path)}: {type(exc).__name__}: "
                        f"{exc}; fix that file.") from exc
    return Course(root=root, config=config, settings=ChdmlCourse(config=config))
