"""stdio jobs in other languages: one build per program vs a build per test case.

    python benchmarks/languages_stdio.py [--cases 5] [--languages cpp,rust,go,java,...]

Ours: one job per program through the local sandbox (isolation included): the program is
built once inside the job and run once per case (codesynth/harness/compiled.py).
Anchor, in the same run: the way SandboxFusion and Judge0 run a stdio problem, a build and a
run per test case, with plain subprocesses and no isolation at all, same compiler flags.
Both print ms per case and ms per program; the ratio is the anchor's time over ours.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codesynth.languages import BUILTIN, SANDBOX_PATH, toolchain  # noqa: E402
from codesynth.records import Job, Limits  # noqa: E402
from codesynth.sandbox import open_sandbox  # noqa: E402
from tests.sandbox.language_programs import CORRECT  # noqa: E402


def plain(language: str, cases: list[dict[str, str]]) -> float:
    """Seconds for a build and a run per case, no isolation."""
    spec = BUILTIN[language]
    code = CORRECT[language]
    env = {"PATH": SANDBOX_PATH, "HOME": "/tmp", "LANG": "C.UTF-8"}
    start = time.perf_counter()
    for case in cases:
        with tempfile.TemporaryDirectory() as work:
            case_env = {**env, **{k: v.replace("/tmp", work) for k, v in spec.env.items()}}
            for name, text in {**spec.support_files, spec.source_name(code): code}.items():
                Path(work, name).write_text(text)
            if spec.compile is not None:
                subprocess.run(spec.command(spec.compile, code), cwd=work, env=case_env,
                               check=True, capture_output=True)
            done = subprocess.run(spec.command(spec.run, code), cwd=work, env=case_env,
                                  input=case["input"].encode(), capture_output=True,
                                  check=True)
            assert done.stdout.decode().strip() == case["output"]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--languages", default="cpp,rust,go,java,javascript,typescript")
    args = parser.parse_args()
    cases = [{"input": f"{i} {i + 1}", "output": str(2 * i + 1)} for i in range(args.cases)]
    languages = [name for name in args.languages.split(",") if toolchain(BUILTIN[name])]
    box = open_sandbox("local", workers=1, limits=Limits(timeout=60.0))
    print(f"{'language':<11} {'cases':>5} {'ours ms/prog':>13} {'plain ms/prog':>14} "
          f"{'ours ms/case':>13} {'plain ms/case':>14} {'ratio':>6}")
    try:
        for language in languages:
            job = Job(id=language, code=CORRECT[language], tests=cases, test_style="stdio",
                      language=language)
            box.run(job)  # the runner asks the toolchain's version once: not timed
            start = time.perf_counter()
            result = box.run(job)
            ours = time.perf_counter() - start
            assert result.passed, result.reason
            anchor = plain(language, cases)
            n = len(cases)
            print(f"{language:<11} {n:>5} {ours * 1e3:>13.0f} {anchor * 1e3:>14.0f} "
                  f"{ours * 1e3 / n:>13.0f} {anchor * 1e3 / n:>14.0f} {anchor / ours:>6.1f}")
    finally:
        box.close()
    print(f"(machine: {os.cpu_count()} CPUs; ours includes isolation, the anchor none)")


if __name__ == "__main__":
    main()
