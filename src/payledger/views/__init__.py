"""Views: read models for the console and the CLI (one payment's timeline, the status overview,
a backfill's progress, what shadow mode would have written). Every query is read-only."""
