"""`wirewatch init [DIR]`: a commented starter config, for an installed wirewatch.

The four files are shipped as package data (worker/config/starter/) and
copied byte for byte: their comments are the first documentation a new user
reads, so they are written by hand rather than generated.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import click
from rich.text import Text

from worker.cli import ui
from worker.config import CONFIG_FILES

__all__ = ["STARTER", "command", "init_hint", "write_starter"]

STARTER = resources.files("worker.config").joinpath("starter")


def write_starter(directory: Path) -> list[Path]:
    """Write the starter files into `directory`; raise FileExistsError if any is there.

    Nothing is written when one exists: a half-replaced config would be worse
    than either the old or the new one.
    """
    targets = [directory / name for name in CONFIG_FILES]
    existing = [path for path in targets if path.exists()]
    if existing:
        raise FileExistsError(existing[0])
    directory.mkdir(parents=True, exist_ok=True)
    for path in targets:
        # "x": a file created between the check and here is not overwritten either.
        with path.open("xb") as file:
            file.write(STARTER.joinpath(path.name).read_bytes())
    return targets


def init_hint(config: Path) -> str:
    """What to run when the config folder `config` (an absolute path) is missing."""
    if config.name != "config":
        return (
            "`wirewatch init DIR` writes a commented starter config into DIR/config; "
            "point WIREWATCH_CONFIG at it"
        )
    where = "" if config.parent == Path.cwd() else f" {config.parent}"
    return f"`wirewatch init{where}` writes a commented starter config there"


@click.command("init", short_help="Write a commented starter config into DIR/config.")
@click.argument(
    "base",
    metavar="[DIR]",
    required=False,
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
)
def command(base: Path) -> None:
    """Write a commented starter config (the four files) into DIR/config.

    DIR defaults to the current folder. The files poll two news feeds and
    hold three example rules; their comments explain every option, and
    settings.yaml lists every setting with its default. No notification
    target is enabled until you uncomment one in apprise.yml.

    Exits 0 when written, 1 when a config file is already there (nothing
    is changed then).

    \b
    Examples:
      wirewatch init                  # ./config
      wirewatch init /srv/wirewatch   # /srv/wirewatch/config
    """
    directory = base / "config"
    try:
        written = write_starter(directory)
    except FileExistsError as exc:
        raise ui.Failure(
            f"{exc.args[0]} already exists; nothing was written",
            hint="edit the files there, or give `wirewatch init` another folder",
            code=1,
        ) from None
    err = ui.stderr()
    for path in written:
        err.print(Text.assemble(("created ", "green"), str(path)))
    err.print()
    err.print("Next:")
    for step in _next_steps(base, directory):
        err.print(f"  {step}")


def _next_steps(base: Path, directory: Path) -> list[str]:
    """The commands to run next, from where the user stands."""
    steps = []
    shown = directory
    if "WIREWATCH_CONFIG" in os.environ:
        if Path(os.environ["WIREWATCH_CONFIG"]).resolve() != directory.resolve():
            steps.append(f"export WIREWATCH_CONFIG={directory.resolve()}")
    elif base.resolve() != Path.cwd():
        # Commands look for ./config, as `wirewatch run` does.
        steps.append(f"cd {base}")
        shown = Path("config")
    steps += [
        "wirewatch check                      # is the config valid?",
        "wirewatch poll bbc-world --dry-run   # what a source gives, which rules match",
        f"edit {shown / 'rules.yaml'} (what to watch), {shown / 'apprise.yml'} (where to)",
        "wirewatch run                        # watch, match and alert; Ctrl-C stops it",
    ]
    return steps
