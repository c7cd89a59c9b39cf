"""Options for the checks beyond a verdict (test strength, reruns, augmentation) and for the
execution cache, shared by the commands that run records."""

from __future__ import annotations

import argparse
from typing import Any

from codesynth.errors import UserError
from codesynth.quality import Checks
from codesynth.test_strength import DEFAULT_MUTANTS


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="run every job, even one whose verdict the execution cache "
                             "holds (CODESYNTH_EXEC_CACHE: its path, or off)")


def add_quality_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data quality")
    group.add_argument("--test-strength", type=int, nargs="?", const=DEFAULT_MUTANTS,
                       default=0, metavar="K",
                       help="run each passing record's tests against K seeded mutants of "
                            f"its program (default K: {DEFAULT_MUTANTS}) and add "
                            "result.test_strength")
    group.add_argument("--augment", action="store_true",
                       help="with --test-strength: add tests (generated inputs, labelled by "
                            "the record's program) that kill surviving mutants, as "
                            "augmented_tests")
    group.add_argument("--reruns", type=int, default=0, metavar="K",
                       help="run every record K more times; records whose outcome changes "
                            "get result.flaky")
    group.add_argument("--seed", type=int, default=0, help="seed of the mutants and inputs")
    add_cache_option(parser)


def checks_from(args: argparse.Namespace) -> Checks:
    if not 0 <= args.test_strength <= 1000:
        raise UserError("--test-strength must be from 1 to 1000 mutants")
    if not 0 <= args.reruns <= 100:
        raise UserError("--reruns must be from 0 to 100")
    if args.augment and not args.test_strength:
        raise UserError("--augment needs --test-strength (it kills the surviving mutants)")
    return Checks(strength=args.test_strength, reruns=args.reruns, augment=args.augment,
                  seed=args.seed)


def with_cache(sandbox: Any, args: argparse.Namespace) -> Any:
    from codesynth.exec_cache import cached

    return cached(sandbox, enabled=not getattr(args, "no_cache", False))
