"""``translate`` for records whose tests are equality assertions (``assert``, ``humaneval``).

The tests stay what they are (Python assertions): the judge turns them into calls and a
per-language driver makes the calls in the target program (``harness/calls``,
``harness/drivers``), so the expected values stay in the judge there as well. What the
translation needs is a function the driver can call with the tests' literals, so the model
is given the declaration to keep (:mod:`codesynth.generators.signatures`). When the source
function is annotated (``def f(xs: list[float]) -> int``), its typed stub is put before the
tests, which is what the drivers read types from (a ``[1, 2]`` passed to a ``list[float]``
is then a list of floats in every language).

:func:`prepare` says, for one source record, what its tests become in the target (or why they
cannot: :class:`Skip`, a counted rejection).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from codesynth.generators.polyglot import NAMES
from codesynth.generators.signatures import Signature, declaration, signatures
from codesynth.harness.calls import Plan, Untranslatable, parse
from codesynth.harness.drivers import Unrenderable, driver_form
from codesynth.records import Job

ASSERT_STYLES = ("assert", "humaneval")

TRANSLATE_FUNCTION = """Translate the {source_name} code below into {target_name}. Tests \
call the function directly, so keep {keep}
{note}Answer with the {target_name} code in one ```{target} block: the function and any \
helpers and imports it needs, no main function, no reading input, no printing.

Code:
```{source}
{code}
```
"""

# Worked examples, sent as earlier turns of the conversation (a small model follows those
# far better than an example inside the request): small functions in each language.
EXAMPLES = {
    "scale": {
        "python": "def scale(xs: list[int], k: int) -> list[int]:\n"
                  "    return [x * k for x in xs]\n",
        "javascript": "function scale(xs, k) {\n  return xs.map((x) => x * k);\n}\n",
        "typescript": "function scale(xs: number[], k: number): number[] {\n"
                      "  return xs.map((x) => x * k);\n}\n",
        "cpp": "#include <vector>\n\nstd::vector<long long> scale(std::vector<long long> xs, "
               "long long k) {\n    for (auto& x : xs) x *= k;\n    return xs;\n}\n",
        "go": "func scale(xs []int, k int) []int {\n\tout := []int{}\n\tfor _, x := range xs {\n"
              "\t\tout = append(out, x*k)\n\t}\n\treturn out\n}\n",
        "rust": "fn scale(xs: Vec<i64>, k: i64) -> Vec<i64> {\n"
                "    xs.iter().map(|x| x * k).collect()\n}\n",
        "java": "import java.util.*;\n\npublic class Solution {\n"
                "    public static List<Long> scale(List<Long> xs, long k) {\n"
                "        List<Long> out = new ArrayList<>();\n"
                "        for (long x : xs) out.add(x * k);\n        return out;\n    }\n}\n"},
    "is_positive": {
        "python": "def is_positive(n: int) -> bool:\n    return n > 0\n",
        "javascript": "function is_positive(n) {\n  return n > 0;\n}\n",
        "typescript": "function is_positive(n: number): boolean {\n  return n > 0;\n}\n",
        "cpp": "bool is_positive(long long n) {\n    return n > 0;\n}\n",
        "go": "func is_positive(n int) bool {\n\treturn n > 0\n}\n",
        "rust": "fn is_positive(n: i64) -> bool {\n    n > 0\n}\n",
        "java": "public class Solution {\n    public static boolean is_positive(long n) {\n"
                "        return n > 0;\n    }\n}\n"},
}
EXAMPLE_TESTS = {"scale": "assert scale([1, 2, 3], 2) == [2, 4, 6]\nassert scale([], 5) == []\n",
                 "is_positive": "assert is_positive(3)\nassert not is_positive(-1)\n"}
NOTES = {"java": "Put it in `public class Solution` as a static method.\n"}
MAPS = {"rust": "Use std::collections::HashMap.\n", "cpp": "Include <map> and <string>.\n"}


class Skip(Exception):
    """A source whose tests cannot run in the target (the reason and why)."""

    def __init__(self, reason: str, why: str) -> None:
        super().__init__(why)
        self.reason, self.why = reason, why


@dataclass(frozen=True)
class Prepared:
    tests: str  # the source's tests, with the function's typed stub before them if any
    plan: Plan
    signatures: list[Signature]


def prepare(job: Job, target: str) -> Prepared:
    """The tests the translation must pass in ``target`` (raises :class:`Skip`)."""
    if target == "python" and job.test_style in (*ASSERT_STYLES, "pytest"):
        return _in_python(job)
    if job.test_style not in ASSERT_STYLES:
        raise Skip("tests_untranslatable", f"{job.test_style!r} tests are not equality "
                   "assertions (translated: stdio, assert, humaneval)")
    assert isinstance(job.tests, str)
    humaneval = job.test_style == "humaneval"
    try:
        plan = parse(job.tests, job.entry_point, humaneval=humaneval)
        names = sorted({c.function for c in plan.calls})
        stubs = typed_stubs(job.code, names) if job.language == "python" else ""
        tests = f"{stubs}\n{job.tests}" if stubs else job.tests
        plan = parse(tests, job.entry_point, humaneval=humaneval) if stubs else plan
    except (Untranslatable, SyntaxError, ValueError) as exc:
        raise Skip("tests_untranslatable", str(exc)[:300]) from exc
    try:
        driver_form(target, "", plan)  # every literal has a form in the target
    except (Unrenderable, ValueError, TypeError, KeyError) as exc:
        raise Skip("tests_unrenderable", f"{target}: {str(exc)[:300]}") from exc
    return Prepared(tests, plan, signatures(plan, job.code))


def _in_python(job: Job) -> Prepared:
    """Into Python, the tests run as they are (any assertion, pytest too); the declaration
    comes from the calls where they parse."""
    assert isinstance(job.tests, str)
    try:
        plan = parse(job.tests, job.entry_point, humaneval=job.test_style == "humaneval")
    except (Untranslatable, SyntaxError, ValueError):
        return Prepared(job.tests, Plan([]), [])
    return Prepared(job.tests, plan, signatures(plan, job.code))


def typed_stubs(code: str, names: list[str]) -> str:
    """``def f(x: T) -> R: ...`` for each of ``names`` that ``code`` defines with at least
    one annotation (parameters without one stay bare: their literals type them)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return ""
    stubs = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name not in names:
            continue
        args = [a for a in node.args.args if a.arg not in ("self", "cls")]
        if node.returns is None and not any(a.annotation for a in args):
            continue
        text = ", ".join(f"{a.arg}: {ast.unparse(a.annotation)}" if a.annotation else a.arg
                         for a in args)
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        stubs.append(f"def {node.name}({text}){returns}: ...\n")
    return "".join(stubs)


def prompt(job: Job, target: str, prepared: Prepared) -> str:
    return _request(job.language, target, job.code, prepared.signatures)


def history(source: str, target: str) -> list[dict[str, str]]:
    """The worked examples as earlier chat turns: asked in ``source``, answered in ``target``."""
    turns = []
    for name, versions in EXAMPLES.items():
        example = Job(id=name, code=versions["python"], tests=EXAMPLE_TESTS[name],
                      test_style="assert", entry_point=name, language="python")
        sigs = prepare(example, target).signatures
        turns += [{"role": "user", "content": _request(source, target, versions[source], sigs)},
                  {"role": "assistant", "content": f"```{target}\n{versions[target]}```"}]
    return turns


def _request(language: str, target: str, code: str, sigs: list[Signature]) -> str:
    declarations = "\n".join(declaration(target, s) for s in sigs)
    note = NOTES.get(target, "") + (MAPS.get(target, "") if "map" in declarations.lower()
                                    else "")
    keep = f"this declaration:\n```{target}\n{declarations}\n```" if declarations else \
        "the function names the tests call."
    return TRANSLATE_FUNCTION.format(
        source_name=NAMES[language], target_name=NAMES[target], source=language,
        target=target, note=note, keep=keep, code=code.rstrip())


def target_job(job_id: str, job: Job, target: str, code: str, prepared: Prepared) -> Job:
    return Job(id=job_id, code=code, tests=prepared.tests, test_style=job.test_style,
               entry_point=job.entry_point, language=target)
