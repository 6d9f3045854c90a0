"""The ``payledger`` command line."""
