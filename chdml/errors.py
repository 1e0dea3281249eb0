"""Errors a user can cause, and how they are reported.

Every mistake a user can make (a wrong path, a corrupt NIfTI, a broken notebook, a bad
checksum, an unknown structure name) is raised as :class:`UserError` with one sentence
that names the file and says what to do. The command line prints that sentence, exits
with code 2 and shows no traceback. Anything else is a bug in chdml and keeps its
traceback.
"""
from __future__ import annotations

import os


class UserError(Exception):
    """A problem the user can fix; the message is one plain sentence.

    Example:
        >>> raise UserError("cannot read 'scan.nii.gz': the file is truncated; "
        ...                 "download or export it again.")
    """

    exit_code = 2


def describe_path(path: os.PathLike | str) -> str:
    """Return a path as a user would recognise it, quoted, for error messages."""
    return f"'{os.fspath(path)}'"
