"""The `initc` command the wheel installs: the Rust command line, run in this process."""

import sys

from . import _native


def main() -> None:
    """Runs `initc` with this process's arguments and exits with its code."""
    # "initc", not argv[0]: under `python -m initc` that is __main__.py, which usage lines would show.
    sys.exit(_native.main(["initc", *sys.argv[1:]]))
