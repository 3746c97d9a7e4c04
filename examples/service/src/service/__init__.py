"""Example FastAPI service checked by preflight's quick start."""
