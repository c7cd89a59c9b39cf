"""Benchmarks for ``codesynth eval``: plugins found by name (``codesynth.registry.benchmarks``,
entry-point group ``codesynth.benchmarks``). Each says where its problems come from, how a
model is asked, how a sample becomes sandbox jobs and what a result row holds
(:class:`codesynth.benchmarks.base.Benchmark`)."""
