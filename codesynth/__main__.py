from codesynth.cli import run

run()
