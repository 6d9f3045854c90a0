"""Adapters: payledger's connections to external systems (PayTrace, Dynamics 365, the database)."""
