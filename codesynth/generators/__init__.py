"""Instruction generators: plugins found by name through the registry."""
