"""Fixtures of the Graph sandbox tests; they live in graph_helpers with the helpers they use."""

from graph_helpers import app, client, config, credential, store

__all__ = ["app", "client", "config", "credential", "store"]
