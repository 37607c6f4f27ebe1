"""The ``photo3d`` command line: thin commands over the Python API, one module per command.

Errors a user can act on print one line, ``photo3d: error: ...``, and exit
with status 2; ``--debug`` shows tracebacks of unexpected failures.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from ..errors import Photo3DError, SettingsError
from . import depth, render, sample
from .options import option_name, state

__all__ = ["app", "main"]

app = typer.Typer(
    name="photo3d",
    help="One photo in, a living 3D photo out: layered depth, inpainting, parallax video and Blender PLY.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print errors only: no progress bar or summary.")
    ] = False,
) -> None:
    state["debug"], state["quiet"] = debug, quiet
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="photo3d: %(levelname)s: %(message)s" if not quiet else "photo3d: %(message)s",
        stream=sys.stderr,
    )


# One module per command, registered in the order --help lists them.
app.command()(render.render)
app.command("depth")(depth.depth_command)
app.command()(sample.sample)
app.command()(sample.trajectories)


def _terminate(signum, frame) -> None:
    """SIGTERM (``kill``, a batch scheduler) and SIGHUP (a closed terminal) unwind like Ctrl-C: no leftovers."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``photo3d`` command: one-line errors and exit status 2 for bad input."""
    import signal

    from ..runtime import tune_allocator

    tune_allocator()  # freed photo-sized arrays are reused instead of faulted in afresh

    try:
        for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):  # no SIGHUP on Windows
            if signum is not None:
                signal.signal(signum, _terminate)
    except ValueError:  # not the main thread (photo3d embedded in another program): leave signals alone
        pass
    try:
        status = app(args=argv, standalone_mode=False)
    except typer.Abort:  # Ctrl-C, as Click reports it
        typer.echo("photo3d: interrupted; outputs in progress were discarded", err=True)
        sys.exit(130)
    except typer.TyperException as exc:  # Click's usage errors (typer vendors Click; only this base is public)
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare "photo3d": the help, as Click shows it
            exc.show()  # type: ignore[attr-defined]
            sys.exit(2)
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        typer.echo(f"photo3d: error: {message}{where}", err=True)
        sys.exit(2)
    except SettingsError as exc:
        typer.echo(f"photo3d: error: {option_name(exc.setting)} {exc.problem}", err=True)
        sys.exit(2)
    except Photo3DError as exc:
        typer.echo(f"photo3d: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:  # SIGTERM or SIGHUP (see _terminate), or Ctrl-C outside Click
        typer.echo("photo3d: interrupted; outputs in progress were discarded", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: still one line unless --debug
        if state["debug"]:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        typer.echo(f"photo3d: internal error: {type(exc).__name__}: {first} (rerun with --debug for details)", err=True)
        sys.exit(1)
    if status == 130:  # typer turns Ctrl-C (and SIGTERM, SIGHUP: see _terminate) into exit status 130
        typer.echo("photo3d: interrupted; outputs in progress were discarded", err=True)
    sys.exit(status if isinstance(status, int) else 0)
