"""Writing output files so that a failure never leaves a partial one behind.

Every writer in photo3d (videos, PNG sequences, meshes) writes into a hidden
temporary next to its destination and moves it into place only once the
output is complete:

- :func:`atomic_output` for one file: ``os.replace`` of a temporary in the same
  folder, which is atomic on POSIX and Windows.
- :func:`atomic_directory` for a folder of files (a PNG sequence): the files are
  written into a hidden sub-folder and moved into the destination one by one.
- :func:`check_writable` is the preflight a command runs before long work, so
  an unwritable destination fails in a second rather than after the render.
- :func:`check_distinct` refuses, before any work, an output that is one of the
  inputs (it would be destroyed) or two outputs that are one file (one would be lost).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import Photo3DError

__all__ = ["atomic_directory", "atomic_output", "check_distinct", "check_writable"]


def _os_error_message(path: Path, err: OSError, parent: Path | None = None) -> str:
    """One line saying why ``path`` cannot be written, from the error raised creating a file in ``parent``."""
    parent = path.parent if parent is None else parent
    if isinstance(err, PermissionError) or err.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: permission denied in {parent}; choose another output folder"
    if err.errno == errno.EROFS:
        return f"cannot write {path}: {parent} is on a read-only file system; choose another output folder"
    if err.errno == errno.ENOSPC:
        return f"cannot write {path}: no space left on the device of {parent}"
    if err.errno == errno.ENOENT and not parent.is_dir():
        return f"cannot write {path}: its folder {parent} does not exist; create it first"
    if err.errno == errno.ENOTDIR:
        return f"cannot write {path}: {parent} is not a folder"
    reason = err.strerror or str(err)
    return f"cannot write {path}: creating a file in {parent} failed ({reason}); choose another output folder"


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file: the same real path, or (both existing) the same inode (a hard link)."""
    pa, pb = Path(a), Path(b)
    if pa.resolve() == pb.resolve():
        return True
    try:
        return pa.exists() and pb.exists() and os.path.samefile(pa, pb)
    except OSError:
        return False


PathLike = str | os.PathLike[str]


def check_distinct(
    outputs: Iterable[tuple[str, PathLike | None]],
    inputs: Iterable[tuple[str, PathLike | None]],
    folders: Collection[str] = (),
) -> None:
    """Refuses an output that is an input, or two outputs that are the same file, before any work is done.

    Args:
        outputs: ``(what it is called in messages, path)`` of each output, e.g. ``("--out", "clip.mp4")``;
            a None path is skipped.
        inputs: ``(what it is called, path)`` of each input, e.g. ``("the photo", "p.png")``.
        folders: The outputs (by what they are called) that may be a folder of files (PNG frames): an
            existing folder there also refuses an input inside it.

    Raises:
        Photo3DError: Naming the clash, e.g. ``--out p.png is the photo p.png: writing it would destroy the
            photo; choose another name``.

    """
    outs = [(label, Path(path)) for label, path in outputs if path is not None]
    ins = [(label, Path(path)) for label, path in inputs if path is not None]
    for label, out in outs:
        for what, src in ins:
            inside = label in folders and out.is_dir() and src.resolve().parent == out.resolve()
            if same_file(out, src) or inside:
                where = "is" if not inside else "is the folder of"
                raise Photo3DError(
                    f"{label} {out} {where} {what} {src}: writing it would destroy {what}; choose another name"
                )
    for i, (label, out) in enumerate(outs):
        for other, path in outs[i + 1 :]:
            if same_file(out, path):
                raise Photo3DError(f"{label} and {other} name the same file {out}: one would be lost; choose two names")


def _create_temporary(parent: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file ``parent/<prefix><random><suffix>`` with the usual (umask) permissions.

    Raises:
        OSError: If the file cannot be created.

    """
    while True:
        tmp = parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        os.close(fd)
        return tmp


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - nothing better to do while another error propagates
        pass


def check_writable(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    """Fail fast if ``path`` cannot be written.

    Permission bits do not stop root, so the check creates and deletes an
    empty temporary file in the destination folder; that also catches
    read-only file systems and pseudo file systems such as ``/proc``.

    Args:
        path: The output file, or with ``directory=True`` the output folder
            (which may not exist yet; its parent must).
        directory: Whether ``path`` is a folder to write files into.

    Raises:
        Photo3DError: If the folder does not exist, ``path`` is a directory
            (for a file) or a file (for a folder), permission is denied, or the
            file system is read-only.

    """
    path = Path(path)
    if directory:
        if path.exists() and not path.is_dir():
            raise Photo3DError(f"cannot write frames into {path}: it is a file, not a folder")
        folder = path if path.is_dir() else path.parent
    else:
        if path.is_dir():
            raise Photo3DError(f"cannot write {path}: it is a directory; give a file name")
        folder = path.parent
    if not folder.exists():
        raise Photo3DError(f"cannot write {path}: its folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise Photo3DError(f"cannot write {path}: {folder} is not a folder")
    try:
        tmp = _create_temporary(folder, ".photo3d-write-check.", ".tmp")
    except OSError as err:
        raise Photo3DError(_os_error_message(path, err, folder)) from None
    _remove_quietly(tmp)


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a file through a hidden temporary that replaces ``path`` only on success.

    The temporary is ``.<name>.<random>.tmp<suffix>`` in the same folder (the
    real suffix stays last so that tools such as ffmpeg recognise the
    container). It exists, empty, when the block starts; the block may
    overwrite it. When the block ends normally the temporary is moved onto
    ``path`` with :func:`os.replace`; when it raises (anything, including
    ``KeyboardInterrupt``) the temporary is deleted and the exception
    propagates.

    Args:
        path: Destination file.

    Yields:
        The temporary file's path.

    Raises:
        Photo3DError: If ``path`` is a directory or the temporary cannot be
            created or moved into place (missing folder, permission denied,
            read-only file system).

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "out.txt"
        >>> with atomic_output(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'

    """
    path = Path(path)
    if path.is_dir():
        raise Photo3DError(f"cannot write {path}: it is a directory; give a file name")
    try:
        tmp = _create_temporary(path.parent, f".{path.name}.", f".tmp{path.suffix}")
    except OSError as err:
        raise Photo3DError(_os_error_message(path, err)) from None
    try:
        yield tmp
    except BaseException:
        _remove_quietly(tmp)
        raise
    try:
        os.replace(tmp, path)
    except OSError as err:
        _remove_quietly(tmp)
        raise Photo3DError(
            f"cannot write {path}: moving the finished file into place failed ({err.strerror})"
        ) from None


@contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a set of files into the folder ``path`` only if all of them are written.

    The block writes into a hidden temporary folder ``path/.tmp-<random>/``.
    On success every file in it is moved into ``path`` with :func:`os.replace`
    (replacing files of the same name; other files already in ``path`` are
    left alone) and the temporary folder is removed. On failure the temporary
    folder is removed, and so is ``path`` if this call created it.

    Args:
        path: Destination folder; it is created if missing (its parent must exist).

    Yields:
        The temporary folder's path.

    Raises:
        Photo3DError: If ``path`` is a file, its parent folder does not exist,
            or the folders cannot be created (permission denied, read-only
            file system).

    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise Photo3DError(f"cannot write frames into {path}: it is a file, not a folder")
    created = False
    folder = path.parent  # where the next file system entry is created
    try:
        if not path.is_dir():
            path.mkdir()
            created = True
        folder = path
        while True:
            tmp = path / f".tmp-{secrets.token_hex(4)}"
            try:
                tmp.mkdir()
                break
            except FileExistsError:  # pragma: no cover - 32 random bits collided
                continue
    except OSError as err:
        if created:
            shutil.rmtree(path, ignore_errors=True)
        raise Photo3DError(_os_error_message(path, err, folder)) from None

    def discard() -> None:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            shutil.rmtree(path, ignore_errors=True)

    try:
        yield tmp
    except BaseException:
        discard()
        raise
    try:
        for name in sorted(os.listdir(tmp)):
            os.replace(tmp / name, path / name)
    except OSError as err:
        discard()
        message = f"cannot write frames into {path}: moving them into place failed ({err.strerror})"
        raise Photo3DError(message) from None
    shutil.rmtree(tmp, ignore_errors=True)
