"""`python -m bot` is the `jardam` command."""

from .cli import main

main()
