"""The host-app HTTP API: wire models, routes, and the one place domain errors become HTTP."""
