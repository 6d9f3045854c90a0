"""The sandboxes of the order-to-cash tests, for the hostile corpus."""

from tests.integration.o2c.conftest import stage

__all__ = ["stage"]
