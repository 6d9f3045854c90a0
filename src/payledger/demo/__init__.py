"""``payledger demo``: a realistic day of payments through both sandboxes, proven to agree."""
