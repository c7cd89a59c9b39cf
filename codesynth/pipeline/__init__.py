"""``codesynth run PIPELINE``: generate -> solve -> verify -> filter -> dedup ->
decontaminate -> export (-> bug-fix pairs), streaming and resumable."""
