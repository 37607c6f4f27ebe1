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
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["FrameProgress", "frame_progress"]

console = Console(stderr=True)
"""The one console photo3d writes progress to (standard error)."""


class _FpsColumn(ProgressColumn):
    def __init__(self, rate: str = "fps") -> None:
        super().__init__()
        self.rate = rate

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.1f} {self.rate}" if speed else f"  ... {self.rate}", style="progress.data.speed")


class FrameProgress:
    """Callback target: ``update(done, total)`` advances the bar, which appears on the first call.

    Args:
        enabled: False shows nothing.
        description: The bar's label.
        unit: What is counted (plural), shown after the count.
        rate: The speed column's unit.

    """

    def __init__(
        self, enabled: bool = True, description: str = "rendering", unit: str = "frames", rate: str = "fps"
    ) -> None:
        self._enabled = enabled
        self._labels = (description, unit, rate)
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def update(self, done: int, total: int) -> None:
        """Records that ``done`` of ``total`` frames are written."""
        if not self._enabled:
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self._labels[1]),
                _FpsColumn(self._labels[2]),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._labels[0], total=total)
        assert self._task is not None  # added together with the bar
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        """Stops the bar (if it was shown)."""
        if self._progress is not None:
            self._progress.stop()


@contextmanager
def frame_progress(disable: bool = False, **labels: str) -> Iterator[FrameProgress]:
    """A progress bar for rendered frames, or other items with ``labels`` (see :class:`FrameProgress`).

    Nothing is shown when ``disable``.
    """
    progress = FrameProgress(enabled=not disable, **labels)
    try:
        yield progress
    finally:
        progress.close()
