"""Adapters behind the ports: EWS, Microsoft Graph, in-memory and SQLite."""
