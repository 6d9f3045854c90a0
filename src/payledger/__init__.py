"""payledger."""
