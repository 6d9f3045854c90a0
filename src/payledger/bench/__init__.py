"""Benchmarks run by ``payledger bench``: commands that measure, never timed tests."""
