"""codesynth: synthesize code training data with LLMs, verified by execution in a sandbox."""

__version__ = "0.1.0"
