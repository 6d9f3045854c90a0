"""Flows: the business steps, written against ports (``flows/ports.py``), never against vendors."""
