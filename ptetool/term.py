"""The terminal layer: the only module that writes to stdout or stderr.

Plain text goes straight to the streams (fast, no rich import); rich views
go through consoles built here with markup and highlighting off.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

PROG = "ptetool"


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def raw_out(text: str) -> None:
    """Write text as it is, with no newline added (a JSON array written piece by piece)."""
    sys.stdout.write(text)


def flush_or_discard() -> None:
    """Flush stdout before the interpreter does: output still buffered when the reader has gone
    (| head) is dropped quietly, never reported as 'Exception ignored ... BrokenPipeError' at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except ValueError:  # stdout already closed
        pass


def err(text: str) -> None:
    sys.stderr.write(f"{PROG}: {text}\n")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def wants_color(mode: str, stream: TextIO | None = None) -> bool:
    """--color: auto colours only a terminal and honours NO_COLOR; always forces it."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return (stream or sys.stdout).isatty()


def make_console(color: bool, file: TextIO | None = None, width: int | None = None, record: bool = False) -> Console:
    """A rich console for ptetool's views. rich answers a closed pipe with SystemExit(1); these
    raise BrokenPipeError instead, which the command group turns into a quiet exit 0."""
    from rich.console import Console

    class _PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return _PipeConsole(
        file=file or sys.stdout,
        width=width,
        color_system="truecolor" if color else None,
        force_terminal=color or None,
        no_color=not color,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
        record=record,
        legacy_windows=False,
    )


def show(renderable: RenderableType, color: bool) -> None:
    make_console(color).print(renderable)


# --- binary and bulk output, progress, pager (ptetool pagemap) ----------------------------------

def binary_stdin() -> BinaryIO:
    """Standard input as bytes (pagemap dumps are binary)."""
    return sys.stdin.buffer


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


PIECES_PER_WRITE = 1020  # a multiple of 3 (pagemap lines are 3 pieces) within IOV_MAX (1024 on Linux)


def write_pieces(pieces: list[bytes], totals: Sequence[int] | None = None, per: int = PIECES_PER_WRITE) -> None:
    """Write byte pieces to stdout in order, without joining them (writev on a real descriptor).

    ``totals``, if given, are the byte counts of each run of ``per`` pieces (so no piece needs
    measuring here). A closed pipe raises BrokenPipeError, which the command group turns into a
    quiet exit.
    """
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError: CliRunner
        sys.stdout.buffer.write(b"".join(pieces))
        sys.stdout.flush()
        return
    _widen_pipe(fd)
    per = min(per, _iov_max())
    for i, start in enumerate(range(0, len(pieces), per)):
        batch = pieces[start: start + per]
        left = totals[i] if totals is not None and per == PIECES_PER_WRITE else sum(map(len, batch))
        while left:
            done = os.writev(fd, batch)
            left -= done
            if left:  # a short write: drop what went out and carry on
                while done >= len(batch[0]):
                    done -= len(batch[0])
                    batch = batch[1:]
                batch = [batch[0][done:], *batch[1:]]


PIPE_BYTES = 1 << 20  # /proc/sys/fs/pipe-max-size's default: what any user may ask for


@functools.lru_cache(maxsize=1)
def _widen_pipe(fd: int) -> None:
    """A pipe holds 64 KiB by default: the reader wakes every 64 KiB and bulk output crawls at half a
    GB/s. Ask for 1 MiB (F_SETPIPE_SZ); where that is refused or stdout is no pipe, nothing changes."""
    import fcntl
    import stat

    set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    with contextlib.suppress(OSError):
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, set_pipe_size, PIPE_BYTES)


def _iov_max() -> int:
    try:
        return max(16, min(os.sysconf("SC_IOV_MAX"), 1024))
    except (ValueError, OSError):
        return 16


class Progress:
    """A one-line progress count on stderr, only when stderr is a terminal and stdout is not.

    It shows up after ``delay`` seconds (short reads never see it) and is erased at the end.
    """

    def __init__(self, total: int | None, unit: str = "records", delay: float = 0.5) -> None:
        self.total, self.unit = total, unit
        self.enabled = sys.stderr.isatty() and not sys.stdout.isatty()
        self.start = time.monotonic()
        self.delay = delay
        self.shown = 0.0
        self.drawn = False

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or now - self.shown < 0.1:
            return
        self.shown = now
        if self.total:
            frac = min(1.0, done / self.total)
            bar = "#" * int(frac * 30)
            text = f"{PROG}: [{bar:<30}] {done:,}/{self.total:,} {self.unit} {frac:4.0%}"
        else:
            text = f"{PROG}: {done:,} {self.unit}"
        sys.stderr.write("\r" + text + "\x1b[K")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.drawn = False


@contextlib.contextmanager
def pager() -> Iterator[TextIO]:
    """Stdout, or a pager's input when stdout is a terminal ($PAGER, else less -RSFX).

    Quitting the pager early ends the output quietly.
    """
    if not sys.stdout.isatty():
        yield sys.stdout
        return
    import shlex
    import subprocess

    command = os.environ.get("PAGER") or "less"
    env = dict(os.environ)
    env.setdefault("LESS", "RSFX")
    try:
        proc = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, env=env, text=True,
                                encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        yield sys.stdout
        return
    assert proc.stdin is not None
    try:
        yield proc.stdin  # type: ignore[misc]  # a text-mode pipe: IO[str] is what Popen declares
    except BrokenPipeError:
        pass  # the reader quit the pager
    finally:
        with contextlib.suppress(BrokenPipeError, OSError):
            proc.stdin.close()
        with contextlib.suppress(KeyboardInterrupt):
            proc.wait()


def stream_console(color: bool, file: TextIO | None = None, width: int | None = None) -> Console:
    """A console for long streamed output (pagemap tables and summaries)."""
    return make_console(color, file=file, width=width)
