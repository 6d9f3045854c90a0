"""The HTTP service: health, readiness, metrics, and (in later issues) ingest and API routes."""
