"""The `initc` command the wheel installs: the Rust command line, run in this process."""

import sys

from . import _native


def main() -> None:
    """Runs `initc` with this process's arguments and exits with its code."""
    sys.exit(_native.main([sys.argv[0], *sys.argv[1:]]))
