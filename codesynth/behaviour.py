"""Behaviour probes: call a program's function on generated inputs, in the sandbox, and read
back what each call returned. Two programs behave alike on those inputs when their outputs
are equal; that detects equivalent mutants, finds inputs that tell a mutant from the
original (new tests), and clusters candidate solutions (selection).

Inputs are type-aware: the argument tuples the tests pass to the function (literals in the
asserts) are the examples, and random values of the same shapes (ints near the ones seen,
strings over the characters seen, lists of such elements, ...) are drawn around them with a
seeded RNG (numbers mostly keep the examples' sign). Without examples, the parameters'
annotations (``int``, ``list[str]``...) are used. A probe is an ``assert``-style job: the
program, then one loop over the inputs that prints a JSON line of outputs, each call bounded
by an interval timer.
"""

from __future__ import annotations

import ast
import json
import random
from collections.abc import Sequence
from typing import Any

from codesynth.records import Execution, Job

MARKER = "@@codesynth-probe@@"
LONG = 300  # an output repr longer than this is kept as its digest
CALL_SECONDS = 0.1  # per call
TIMED_OUT = "!TimeoutError"  # what a call that ran out of time returns: it says nothing

_CALL = """\
import copy as _cs_copy, hashlib as _cs_hashlib, json as _cs_json, signal as _cs_signal
def _cs_alarm(*_cs_ignored):
    raise TimeoutError('probe call')
_cs_signal.signal(_cs_signal.SIGALRM, _cs_alarm)
def _cs_call(_cs_args):
    try:
        _cs_signal.setitimer(_cs_signal.ITIMER_REAL, {seconds})
        try:
            _cs_value = repr({entry}(*_cs_copy.deepcopy(_cs_args)))
        finally:
            _cs_signal.setitimer(_cs_signal.ITIMER_REAL, 0)
    except BaseException as _cs_exc:
        _cs_value = '!' + type(_cs_exc).__name__
    if len(_cs_value) > {long}:
        _cs_value = '#' + _cs_hashlib.sha1(_cs_value.encode('utf-8', 'replace')).hexdigest()
    return _cs_value
"""
_PROBE = "print('\\n{marker}' + _cs_json.dumps([_cs_call(a) for a in {inputs}]))\n"
_AGREE = "assert _cs_call({args}) == {expected}\n"

Args = tuple[Any, ...]


def entry_function(code: str, entry_point: str | None) -> str | None:
    """The function to probe: the entry point, else the program's first top-level function."""
    if entry_point:
        return entry_point
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    return next((n.name for n in tree.body if isinstance(n, ast.FunctionDef)), None)


def call_examples(tests: Any, test_style: str, entry: str) -> list[Args]:
    """Argument tuples (literals only) that the tests pass to ``entry`` (or ``candidate``,
    HumanEval's name for it), in order, without repeats."""
    if test_style == "stdio" or not isinstance(tests, str):
        return []
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError):
        return []
    found: list[Args] = []
    seen: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in (entry, "candidate") and not node.keywords:
            try:
                args = tuple(ast.literal_eval(a) for a in node.args)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            text = repr(args)
            if text not in seen and literal(args):
                seen.add(text)
                found.append(args)
    return found


def literal(value: Any) -> bool:
    """Whether ``repr(value)`` reads back as ``value`` (no inf/nan, no sets of odd things)."""
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


_ANNOTATED: dict[str, Any] = {"int": 3, "float": 1.5, "str": "abc", "bool": True,
                              "list": [1, 2, 3], "List": [1, 2, 3], "dict": {"a": 1},
                              "tuple": (1, 2)}


def annotated_example(code: str, entry: str) -> Args | None:
    """One argument tuple built from the parameters' annotations, when all have one."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            values = [_from_annotation(a.annotation) for a in node.args.args]
            if any(v is None for v in values):
                return None
            return tuple(values)
    return None


def _from_annotation(node: ast.expr | None) -> Any:
    if isinstance(node, ast.Name):
        return _ANNOTATED.get(node.id)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        inner = _from_annotation(node.slice if not isinstance(node.slice, ast.Tuple)
                                 else node.slice.elts[0])
        if inner is None:
            return None
        if node.value.id in ("list", "List"):
            return [inner, inner]
        if node.value.id in ("tuple", "Tuple"):
            return (inner, inner)
    return None


def like(value: Any, rng: random.Random, nonnegative: bool, depth: int = 0) -> Any:
    """A random value of ``value``'s shape."""
    if isinstance(value, bool):
        return rng.random() < 0.5
    if isinstance(value, int):
        pick = rng.random()
        if pick < 0.3:
            drawn = value + rng.randint(-3, 3)
        elif pick < 0.7:
            drawn = rng.randint(-10, 20)
        elif pick < 0.85:
            drawn = rng.randint(-200, 200)
        else:
            drawn = rng.choice((0, 1, 2, -1, 100))
        return abs(drawn) if nonnegative else drawn
    if isinstance(value, float):
        real = round(rng.uniform(-10, 10) if rng.random() < 0.6 else value * rng.uniform(0, 2), 3)
        return abs(real) if nonnegative else real
    if isinstance(value, str):
        alphabet = sorted(set(value)) + list("abcAB 1")
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, max(8, len(value) + 3))))
    if depth > 3:
        return value
    if isinstance(value, list):
        size = rng.randint(0, max(6, len(value) + 2))
        pool = value or [0]
        return [like(rng.choice(pool), rng, nonnegative, depth + 1) for _ in range(size)]
    if isinstance(value, tuple):
        return tuple(like(v, rng, nonnegative, depth + 1) for v in value)
    if isinstance(value, dict) and value:
        keys, values = list(value), list(value.values())
        return {like(rng.choice(keys), rng, nonnegative, depth + 1):
                like(rng.choice(values), rng, nonnegative, depth + 1)
                for _ in range(rng.randint(0, 5))}
    return value


def _all_nonnegative(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return value >= 0
    if isinstance(value, list | tuple):
        return all(_all_nonnegative(v) for v in value)
    if isinstance(value, dict):
        return all(_all_nonnegative(v) for v in (*value, *value.values()))
    return True


def generate_inputs(examples: Sequence[Args], rng: random.Random, count: int) -> list[Args]:
    """The examples, then random inputs of their shapes, ``count`` in all, distinct."""
    if not examples:
        return []
    # Numbers keep the examples' sign for most inputs (a negative may be outside the task),
    # not all: an input domain narrower than the program's hides mutants.
    nonnegative = all(_all_nonnegative(e) for e in examples)
    inputs = list(examples)[:count]
    seen = {repr(e) for e in inputs}
    for _ in range(count * 10):
        if len(inputs) >= count:
            break
        drawn = like(rng.choice(list(examples)), rng, nonnegative and rng.random() < 0.75)
        if repr(drawn) not in seen and literal(drawn):
            seen.add(repr(drawn))
            inputs.append(drawn)
    return inputs


def inputs_for(job: Job, rng: random.Random, count: int = 24) -> list[Args]:
    """Probe inputs for a job's function, or [] when there is nothing to go on."""
    entry = entry_function(job.code, job.entry_point)
    if entry is None:
        return []
    examples = call_examples(job.tests, job.test_style, entry)
    if not examples:
        example = annotated_example(job.code, entry)
        examples = [example] if example is not None else []
    return generate_inputs(examples, rng, count)


def _helper(entry: str) -> str:
    return _CALL.format(seconds=CALL_SECONDS, entry=entry, long=LONG)


def probe_job(job_id: str, code: str, entry: str, inputs: Sequence[Args]) -> Job:
    """Prints every call's output on one line. The loop runs in the judge, so the program
    cannot forge it (the judge's stdout follows the program's in the trace, and the line is
    looked for from the end); :func:`agreement_job` checks a claim of equal behaviour through
    the harness all the same. A call that runs out of time ends the probe (the session
    stops trusting a connection it interrupted)."""
    script = _helper(entry) + _PROBE.format(marker=MARKER, inputs=repr(list(inputs)))
    return Job(id=job_id, code=code, tests=script, test_style="assert")


def agreement_job(job_id: str, code: str, entry: str, inputs: Sequence[Args],
                  expected: Sequence[str]) -> Job:
    """One assert per input: the call's output equals ``expected`` (another program's). The
    verdict and per-test outcomes come from the harness, which the program cannot forge."""
    asserts = "".join(_AGREE.format(args=repr(a), expected=repr(e))
                      for a, e in zip(inputs, expected, strict=True))
    return Job(id=job_id, code=code, tests=_helper(entry) + asserts, test_style="assert")


def disagreements(execution: Execution, count: int) -> list[int]:
    """The inputs (indices) on which an :func:`agreement_job` failed; all of them when the
    job ended without per-test outcomes (a timeout, a crash)."""
    checks = [t for t in execution.tests if (t.source or "").startswith("assert _cs_call(")]
    if execution.passed and len(checks) == count:
        return []
    if len(checks) != count:
        return list(range(count))
    return [i for i, t in enumerate(checks) if t.outcome != "passed"]


def outputs(execution: Execution) -> list[str] | None:
    """Each call's output (its repr, ``!Exception`` when it raised, a digest when long), or
    None when the probe did not finish."""
    for line in reversed(execution.stdout.splitlines()):
        if line.startswith(MARKER):
            try:
                values = json.loads(line[len(MARKER):])
            except ValueError:
                return None
            if not isinstance(values, list):
                return None
            return [str(v) for v in values]
    return None
