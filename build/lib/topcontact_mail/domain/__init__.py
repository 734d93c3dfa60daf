"""The pure core: business calendar, response terms, screening and value types; no I/O."""
