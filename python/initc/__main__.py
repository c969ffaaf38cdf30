"""`python -m initc …` runs the `initc` command line."""

from ._cli import main

main()
