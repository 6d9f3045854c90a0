"""Faithful local emulators of the PayTrace v1 API and the Dynamics 365 F&O OData API.

They are built from the vendors' documentation (``shared/reference``), never from payledger's
client code, so that the connectors are proven against an independent picture of each API.
"""
