"""How every command talks to the user, in one style.

- Data goes to stdout: aligned tables and highlighted matches on a terminal,
  the same layout without colour or box lines when piped, and with `--json`
  one JSON object per line and nothing else.
- Everything else goes to stderr: notes, progress bars (only on a terminal,
  only for work that lasts more than a second), and errors, which are one
  line with a hint instead of a traceback.

Colour follows the usual conventions (NO_COLOR, FORCE_COLOR, TTY_COMPATIBLE)
through rich.

What a command prints comes largely from the web (titles, text, URLs), so
every piece of text passes `worker.notify.sanitize` on its way out: through
the consoles here, whatever renderable holds it, and `--json` lines keep
their values but write C1 and bidi controls as JSON escapes.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO, Any

import click
from rich import box
from rich.console import Console, ConsoleOptions, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as _RichProgress
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from worker.notify.sanitize import json_inert, sanitize

__all__ = [
    "MARK_END",
    "MARK_START",
    "Failure",
    "Progress",
    "emit_json",
    "highlighter",
    "marked",
    "new_table",
    "plain",
    "print_table",
    "stderr",
    "stdout",
    "styled",
]

# Piped output is never wrapped: a line per record is what grep and cut expect.
_PLAIN_WIDTH = 100_000
# Matches inside a text are wrapped in these (private-use characters, never in
# article text after normalization) until the text is printed.
MARK_START, MARK_END = "\ue000", "\ue001"
_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.S)
_MATCH_STYLE = "bold red"


class _InertConsole(Console):
    """A console that prints text segments sanitized, and its own styling as usual.

    Sanitizing the segments rich renders (not the file it writes to) keeps
    the colours wirewatch adds while removing any that came with the text.
    Strings are sanitized before rich sees them as well: rich drops BEL,
    which would leave an OSC sequence without its end and its payload shown.
    """

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(sanitize(text), **options)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterator[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(sanitize(segment.text), segment.style)


def _console(file: IO[str]) -> Console:
    probe = Console(file=file)
    return _InertConsole(
        file=file,
        width=None if probe.is_terminal else _PLAIN_WIDTH,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=not probe.is_terminal,
    )


def stdout() -> Console:
    """A console on the current stdout (CliRunner swaps it, so never cached)."""
    return _console(sys.stdout)


def stderr() -> Console:
    return _console(sys.stderr)


def styled(console: Console) -> bool:
    """Whether colour reaches the reader; otherwise matches are shown in [[brackets]]."""
    return console.is_terminal and not console.no_color


class Failure(click.ClickException):
    """A user error: one line saying what is wrong, and a hint on what to do.

    Exit code 2 by default: the command could not run at all (bad arguments,
    unusable config, no Redis). Codes 0 and 1 are the commands' own outcomes.
    """

    def __init__(self, message: str, hint: str | None = None, code: int = 2) -> None:
        super().__init__(message)
        self.hint = hint
        # click declares exit_code per class; an instance value reads the same.
        object.__setattr__(self, "exit_code", code)

    def show(self, file: IO[Any] | None = None) -> None:
        console = _console(file or sys.stderr)
        console.print(Text.assemble(("wirewatch: error: ", "bold red"), self.message))
        if self.hint:
            console.print(Text(f"  hint: {self.hint}", style="dim"))


def emit_json(record: object) -> None:
    """One JSON document on one line: `--json` output is JSON lines, undecorated."""
    click.echo(json_inert(json.dumps(record, ensure_ascii=False)))


def highlighter(styled_output: bool) -> Callable[[str], str]:
    """How a matched text is marked: for the terminal (see `marked`) or [[brackets]]."""
    if styled_output:
        return lambda text: f"{MARK_START}{text}{MARK_END}"
    return lambda text: f"[[{text}]]"


def plain(text: str, style: str = "") -> Text:
    """Untrusted `text` (a title, a URL) as a rich Text, sanitized first.

    The consoles sanitize what they render anyway; building the Text from
    sanitized text also removes the payload of an escape sequence, which
    rich's Text would otherwise leave behind once it has dropped its BEL.
    """
    return Text(sanitize(text), style=style)


def marked(text: str, style: str = "") -> Text:
    """`text` with the parts that `highlighter(True)` marked shown in the match style."""
    text = sanitize(text)
    result = Text(style=style)
    position = 0
    for found in _MARKED.finditer(text):
        result.append(text[position : found.start()])
        result.append(found.group(1), style=_MATCH_STYLE)
        position = found.end()
    result.append(text[position:])
    return result


def new_table(console: Console, *columns: str, right: tuple[str, ...] = ()) -> Table:
    """A table with a bold header and light rules on a terminal, bare columns otherwise."""
    terminal = console.is_terminal
    table = Table(
        box=box.SIMPLE_HEAD if terminal else None,
        header_style="bold" if terminal else "",
        show_edge=False,
        pad_edge=False,
    )
    for name in columns:
        # fold: a long URL is broken over lines, never cut short.
        table.add_column(name, justify="right" if name in right else "left", overflow="fold")
    return table


def print_table(console: Console, table: Table) -> None:
    if console.is_terminal:
        console.print(table)
        return
    # Bare columns pad every cell; trailing blanks only get in a pipe's way.
    with console.capture() as captured:
        console.print(table)
    for line in captured.get().splitlines():
        click.echo(line.rstrip())


class Progress:
    """A progress bar on stderr for work that turns out to take more than a second.

    Nothing shows when stderr is not an interactive terminal, nor for work
    done within `delay`: the bar starts from a timer, so quick commands do
    not flicker.
    """

    def __init__(self, total: int | None, label: str, *, delay: float | None = None) -> None:
        if delay is None:
            # WIREWATCH_PROGRESS_DELAY=0 shows every bar at once (scripts
            # recording a terminal session, and the tests of the bar).
            delay = float(os.environ.get("WIREWATCH_PROGRESS_DELAY", "1"))
        self._console = stderr()
        self._label = label
        self._total = total
        self._done = 0
        self._lock = threading.Lock()
        self._bar: _RichProgress | None = None
        self._task: Any = None
        self._timer: threading.Timer | None = None
        self._at_once = delay <= 0
        if self._console.is_interactive:
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True

    def __enter__(self) -> Progress:
        if self._timer is not None:
            if self._at_once:
                self._show()
            else:
                self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

    def _show(self) -> None:
        with self._lock:
            if self._timer is None:  # already finished
                return
            self._bar = _RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._bar.add_task(self._label, total=self._total, completed=self._done)
            self._bar.start()

    def advance(self, count: int = 1, *, label: str | None = None) -> None:
        with self._lock:
            self._done += count
            if label is not None:
                self._label = label
            if self._bar is not None:
                self._bar.update(self._task, completed=self._done, description=self._label)

    def grow(self, count: int) -> None:
        """More work was found (the entries of a feed just fetched)."""
        with self._lock:
            self._total = (self._total or 0) + count
            if self._bar is not None:
                self._bar.update(self._task, total=self._total)

    def print(self, out: Console, line: Text | str) -> None:
        """Print a result line on `out` (stdout) while the bar may be showing.

        On one terminal the line goes through the bar's console, above the
        bar, so the two do not garble each other; a piped stdout is apart.
        """
        with self._lock:
            if self._bar is not None and out.is_terminal:
                self._bar.console.print(line)
            else:
                out.print(line)
