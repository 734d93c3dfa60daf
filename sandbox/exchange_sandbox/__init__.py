"""A sandbox Exchange server (test double, never a production option) speaking EWS and Graph."""
