"""Fixture apps for the middleware and settings checks (see ../README.md)."""
