"""Differential testing: does a rewritten program behave as the original on inputs neither
was tested on?

Inputs come from the argument shapes of the tests' calls of the entry point (each literal
argument mutated: numbers moved, sequences shuffled, cut or grown, strings changed) and from
the entry point's type hints (``int``, ``str``, ``list[int]``, ...). Both programs run in the
sandbox, never here: the original's job prints what each input gives (return value and the
arguments after the call, or the exception's type), and the variant's job asserts, one
statement per input, that it gives the same; the harness's verdict is the evidence.
"""

from __future__ import annotations

import ast
import json
import random
from typing import Any

from codesynth.records import Execution, Job

MARKER = "CODESYNTH-PROBE "
# Runs in the sandbox after the program: what a call gives, as comparable text.
PROBE = '''
import ast as _cs_ast, hashlib as _cs_hash, signal as _cs_signal

class _CsSlow(Exception):
    pass

def _cs_alarm(signum, frame):
    raise _CsSlow()

def _cs_show(v):
    if isinstance(v, (set, frozenset)):
        return type(v).__name__ + "{" + ", ".join(sorted(_cs_show(x) for x in v)) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(_cs_show(k) + ": " + _cs_show(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_cs_show(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(_cs_show(x) for x in v) + ",)"
    if isinstance(v, float) and v == v:
        return repr(round(v, 9))
    text = repr(v)
    return type(v).__name__ if " at 0x" in text else text

def _cs_probe(source):
    args = _cs_ast.literal_eval(source)
    _cs_signal.signal(_cs_signal.SIGALRM, _cs_alarm)
    _cs_signal.setitimer(_cs_signal.ITIMER_REAL, __PER_CALL__)
    try:
        try:
            out = "return " + _cs_show(__ENTRY__(*args)) + " | args " + _cs_show(args)
        finally:
            _cs_signal.setitimer(_cs_signal.ITIMER_REAL, 0)
    except _CsSlow:
        return "slow"
    except Exception as exc:
        return "raise " + type(exc).__name__
    if len(out) > 400:
        return "sha256 " + _cs_hash.sha256(out.encode()).hexdigest()
    return out
'''


def _probe(entry: str, per_call: float) -> str:
    return PROBE.replace("__ENTRY__", entry).replace("__PER_CALL__", repr(float(per_call)))


def call_arguments(tests: Any, entry: str) -> list[tuple[Any, ...]]:
    """The literal positional arguments of every call of ``entry`` in the tests."""
    if not isinstance(tests, str):
        return []
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in (entry, "candidate") and not node.keywords:
            try:
                found.append(tuple(ast.literal_eval(a) for a in node.args))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return found


def _hinted(code: str, entry: str) -> list[str | None]:
    """The annotation of each positional parameter of ``entry`` as text (None: none)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            params = node.args.posonlyargs + node.args.args
            return [ast.unparse(p.annotation) if p.annotation else None for p in params]
    return []


def _from_hint(hint: str, rng: random.Random) -> Any:
    hint = hint.replace("typing.", "").replace("List[", "list[").replace("Dict[", "dict[")
    if hint == "int":
        return rng.randint(-5, 20)
    if hint == "float":
        return round(rng.uniform(-10, 10), 3)
    if hint == "bool":
        return rng.random() < 0.5
    if hint == "str":
        return "".join(rng.choice("abcde ") for _ in range(rng.randint(0, 8)))
    if hint.startswith("list[") and hint.endswith("]"):
        return [_from_hint(hint[5:-1], rng) for _ in range(rng.randint(0, 6))]
    if hint in ("list", "List"):
        return [rng.randint(-5, 20) for _ in range(rng.randint(0, 6))]
    if hint.startswith("dict[str, ") and hint.endswith("]"):
        return {f"k{i}": _from_hint(hint[10:-1], rng) for i in range(rng.randint(0, 4))}
    raise ValueError(hint)


def _mutate(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice((-2, -1, 1, 2, 3)) if rng.random() < 0.7 \
            else rng.randint(-5, 20)
    if isinstance(value, float):
        return round(value + rng.uniform(-3, 3), 3)
    if isinstance(value, str):
        letters = list(value)
        rng.shuffle(letters)
        choice = rng.random()
        if choice < 0.3 and letters:
            return "".join(letters[:-1])
        if choice < 0.6:
            return "".join(letters) + rng.choice("aZ1 ")
        return "".join(letters)
    if isinstance(value, list | tuple):
        items = list(value)
        rng.shuffle(items)
        choice = rng.random()
        if choice < 0.3 and items:
            items = items[:rng.randrange(len(items))]
        elif choice < 0.6 and items:
            items.append(_mutate(rng.choice(items), rng))
        else:
            items = [_mutate(i, rng) if rng.random() < 0.3 else i for i in items]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        keys = list(value)
        if keys and rng.random() < 0.5:
            return {k: v for k, v in value.items() if k != rng.choice(keys)}
        return {k: _mutate(v, rng) for k, v in value.items()}
    return value


def _literal(args: tuple[Any, ...]) -> str | None:
    text = repr(tuple(args))
    try:
        return text if ast.literal_eval(text) == tuple(args) and len(text) < 2000 else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def generated_inputs(code: str, tests: Any, entry: str, rng: random.Random,
                     count: int) -> list[str]:
    """Up to ``count`` argument tuples (as Python literals): the tests' own calls, their
    mutations, then values drawn from the type hints."""
    seen = call_arguments(tests, entry)
    inputs: list[str] = []

    def add(args: tuple[Any, ...]) -> None:
        text = _literal(args)
        if text is not None and text not in inputs and len(inputs) < count:
            inputs.append(text)

    for args in seen:
        add(args)
    hints = _hinted(code, entry)
    for attempt in range(count * 4):
        if len(inputs) >= count:
            break
        if seen and (attempt % 3 or not hints):
            base = rng.choice(seen)
            add(tuple(_mutate(a, rng) if rng.random() < 0.7 else a for a in base))
        elif hints and all(hints):
            try:
                add(tuple(_from_hint(h, rng) for h in hints if h is not None))
            except ValueError:
                hints = []
    return inputs


def probe_job(job_id: str, code: str, entry: str, inputs: list[str],
              per_call: float = 1.0) -> Job:
    """The original on every input: one line of JSON, after :data:`MARKER`."""
    tests = _probe(entry, per_call) + \
        f"print({MARKER!r} + __import__('json').dumps([_cs_probe(s) for s in {inputs!r}]))\n"
    return Job(id=job_id, code=code, tests=tests)


def observed(execution: Execution) -> list[str] | None:
    """What the probe job printed, or None (it did not pass, or printed no usable line)."""
    if not execution.passed or execution.stdout_truncated:
        return None
    lines = [ln for ln in execution.stdout.splitlines() if ln.startswith(MARKER)]
    try:
        value = json.loads(lines[-1][len(MARKER):]) if lines else None
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return value


def agreement_job(job_id: str, code: str, entry: str, inputs: list[str], expected: list[str],
                  per_call: float = 1.0) -> Job:
    """The variant on every input the original answered, one assert per input."""
    lines = [_probe(entry, per_call)]
    for source, want in zip(inputs, expected, strict=True):
        if want != "slow":
            lines.append(f"assert _cs_probe({source!r}) == {want!r}, {source!r}\n")
    return Job(id=job_id, code=code, tests="".join(lines))


def disagreement(execution: Execution) -> dict[str, Any]:
    """The first input on which a variant did not agree (from the trace)."""
    failed = next((t for t in execution.tests if t.outcome != "passed"), None)
    message = (failed.message if failed is not None else None) or execution.reason
    return {"status": execution.status.value,
            "input": failed.source if failed is not None else None,
            "message": message[:300] if message else None}
