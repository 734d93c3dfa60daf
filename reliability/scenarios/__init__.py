"""The proving ground's scenarios: one module each, `run(backend, full, workdir) -> Rows`."""
