"""How the service is started: command line, daemon, health and metrics endpoint."""
