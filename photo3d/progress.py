"""Progress display for long work: a rich progress bar with frames and frames per second."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["FrameProgress", "frame_progress"]

console = Console(stderr=True)
"""The one console photo3d writes progress to (standard error)."""


class _FpsColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.1f} fps" if speed else "  ... fps", style="progress.data.speed")


class FrameProgress:
    """Callback target: ``update(done, total)`` advances the bar, which appears on the first call."""

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled
        self._progress: Progress | None = None
        self._task = None

    def update(self, done: int, total: int) -> None:
        """Records that ``done`` of ``total`` frames are written."""
        if not self._enabled:
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("frames"),
                _FpsColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
            )
            self._progress.start()
            self._task = self._progress.add_task("rendering", total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        """Stops the bar (if it was shown)."""
        if self._progress is not None:
            self._progress.stop()


@contextmanager
def frame_progress(disable: bool = False) -> Iterator[FrameProgress]:
    """A progress bar for rendered frames (nothing when ``disable``)."""
    progress = FrameProgress(enabled=not disable)
    try:
        yield progress
    finally:
        progress.close()
