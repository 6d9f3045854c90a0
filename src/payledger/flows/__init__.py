"""Flows: the business steps, written against ports (``flows/ports/``), never against vendors."""
