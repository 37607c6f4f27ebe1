"""Errors that a user can act on.

Every failure caused by input (a file, an option, the environment) raises
:class:`Photo3DError` with a one-line message that names what was wrong, with
which file, and what to do. The CLI prints that line and exits with status 2;
anything else is a bug.
"""

from __future__ import annotations

__all__ = ["Photo3DError", "SettingsError", "one_line"]


class Photo3DError(Exception):
    """A problem with the user's input or environment, described in one line."""


class SettingsError(Photo3DError):
    """A setting (or argument) with a value it does not allow; the CLI names its option instead.

    Attributes:
        setting: The setting's name, dotted for nested settings (``"ldi.max_layers"``).
        problem: What is wrong, without the name (``"must be from 1 to 4, got 9"``).

    """

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting} {problem}")
        self.setting = setting
        self.problem = problem


def one_line(error: BaseException) -> str:
    """An exception's text collapsed to one line, for messages that quote it.

    Args:
        error: Any exception.

    Returns:
        ``str(error)`` with every run of whitespace (newlines included) replaced by one space; the
        exception's type name if it has no text.

    """
    return " ".join(str(error).split()) or type(error).__name__
