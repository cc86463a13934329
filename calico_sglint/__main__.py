"""`python -m calico_sglint` runs the `sglint` command."""

from calico_sglint.cli import run

run()
