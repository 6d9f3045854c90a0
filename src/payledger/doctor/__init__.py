"""``payledger doctor`` and the template check that guards start-up."""
