"""`python -m exchange_sandbox serve|deliver`."""

from exchange_sandbox.cli import main

main()
