"""Bug injection: mutation operators, LLM-made bugs, and buggy/fixed pairs."""
