"""`python -m leanstack`."""

from leanstack.cli import main

main()
