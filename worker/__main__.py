"""`python -m worker` is the `wirewatch` command."""

from worker.cli import main

main(prog_name="wirewatch")
