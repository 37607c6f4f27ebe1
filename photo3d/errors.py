"""Errors that a user can act on.

Every failure caused by input (a file, an option, the environment) raises
:class:`Photo3DError` with a one-line message that names what was wrong, with
which file, and what to do. The CLI prints that line and exits with status 2;
anything else is a bug.
"""

from __future__ import annotations

__all__ = ["Photo3DError"]


class Photo3DError(Exception):
    """A problem with the user's input or environment, described in one line."""
