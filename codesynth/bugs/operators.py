"""AST bug-injection operators (libcst): small realistic bugs that keep everything else intact.

Each operator names a kind of bug. `sites` counts where it can apply in a program and
`apply` makes the mutant at one of them; both use the same traversal, so site `i` is the
same place for both. `mutate` samples sites of every operator with a seeded `random.Random`.
Only the targeted node is rebuilt, so comments and formatting elsewhere survive byte for byte.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper

from codesynth.bugs import _expr_rules as expr
from codesynth.bugs import _stmt_rules as stmt
from codesynth.bugs._sites import Collector, Rule, Site, apply_site


@dataclass(frozen=True)
class Operator:
    """A kind of bug."""

    name: str  # e.g. "comparison_swap"
    description: str  # one sentence: what bug it makes


@dataclass(frozen=True)
class Mutant:
    """A program with one injected bug."""

    operator: str
    description: str  # what was changed at this site, e.g. "`<` -> `<=` on line 4"
    code: str  # the full mutated program
    line: int  # 1-based line of the change in the ORIGINAL code


_TABLE: list[tuple[str, str, Rule]] = [
    (
        "comparison_swap",
        "swaps a comparison operator, e.g. < for <=, == for !=, in for not in",
        expr.comparison_swap,
    ),
    (
        "arithmetic_swap",
        "swaps an arithmetic operator, e.g. + for -, * for +, // for /, or += for -=",
        expr.arithmetic_swap,
    ),
    ("boolean_swap", "swaps `and` for `or` or the reverse", expr.boolean_swap),
    (
        "negate_condition",
        "negates the condition of an if, elif, while or conditional expression",
        expr.negate_condition,
    ),
    ("off_by_one_range", "moves the stop of a range() call by one", expr.off_by_one_range),
    (
        "off_by_one_index",
        "moves a subscript index by one, e.g. x[i] to x[i + 1]",
        expr.off_by_one_index,
    ),
    (
        "off_by_one_constant",
        "changes an integer literal by one, e.g. 0 to 1",
        expr.off_by_one_constant,
    ),
    (
        "remove_statement",
        "deletes an expression statement, assignment, del or assert",
        stmt.remove_statement,
    ),
    (
        "remove_branch",
        "removes the else or elif branch of an if, or empties a lone if body",
        stmt.remove_branch,
    ),
    ("remove_loop", "replaces a whole for or while loop with pass", stmt.remove_loop),
    (
        "remove_return",
        "drops the value of a return statement, so the function returns None",
        stmt.remove_return,
    ),
    ("swap_call_args", "swaps two adjacent positional arguments of a call", stmt.swap_call_args),
    (
        "wrong_variable",
        "reads another local variable of the function instead of the intended one",
        stmt.wrong_variable,
    ),
    (
        "slice_bounds",
        "moves a bound of a slice by one, e.g. x[a:b] to x[a:b - 1]",
        expr.slice_bounds,
    ),
    (
        "swallow_exception",
        "empties an except handler or turns a raise into pass",
        stmt.swallow_exception,
    ),
    (
        "change_default",
        "changes a parameter's default value, e.g. 0 to 1, True to False",
        expr.change_default,
    ),
    ("flip_boolean_constant", "flips a True or False literal", expr.flip_boolean_constant),
    ("drop_unary", "drops a `not` or a unary minus from an expression", expr.drop_unary),
]

OPERATORS: dict[str, Operator] = {name: Operator(name, text) for name, text, _ in _TABLE}
_RULES: dict[str, Rule] = {name: rule for name, _, rule in _TABLE}


class _Program:
    """A parsed program and the sites of some operators in it."""

    def __init__(self, code: str, module: cst.Module, names: Sequence[str]) -> None:
        self.code = code
        self.module = module
        self.collector = Collector({name: _RULES[name] for name in names})
        MetadataWrapper(module, unsafe_skip_copy=True).visit(self.collector)

    @classmethod
    def parse(cls, code: str, names: Sequence[str]) -> _Program | None:
        unknown = [name for name in names if name not in _RULES]
        if unknown:
            raise ValueError(f"unknown bug operator(s): {', '.join(unknown)}")
        try:
            module = cst.parse_module(code)
            return cls(code, module, names)
        except Exception:  # libcst rejects the code (syntax, unsupported version, recursion)
            return None

    def sites(self, name: str) -> list[Site]:
        return self.collector.sites[name]

    def mutant(self, name: str, site: Site) -> Mutant | None:
        try:
            code = apply_site(self.module, self.collector, site)
        except Exception:  # an invalid replacement tree
            return None
        if code == self.code or not _compiles(code):
            return None
        return Mutant(name, f"{site.what} on line {site.line}", code, site.line)


def _compiles(code: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(code, "<mutant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError):
            return False
    return True


def sites(code: str, operator: str) -> int:
    """How many places `operator` can apply to in `code` (0 when libcst cannot parse it)."""
    program = _Program.parse(code, [operator])
    return 0 if program is None else len(program.sites(operator))


def apply(code: str, operator: str, site: int) -> Mutant | None:
    """The mutant at the `site`-th place (0-based) of `operator`, or None.

    None when the site does not exist, the code does not parse, or the result is the input
    or does not compile.
    """
    program = _Program.parse(code, [operator])
    if program is None or not 0 <= site < len(program.sites(operator)):
        return None
    return program.mutant(operator, program.sites(operator)[site])


def mutate(
    code: str,
    rng: random.Random,
    operators: Sequence[str] | None = None,
    per_operator: int = 1,
) -> list[Mutant]:
    """Up to `per_operator` mutants per operator at sites drawn with `rng`, deduplicated.

    Operators go in `OPERATORS` order (or the given order); the result depends only on the
    code, the operators and the state of `rng`. Code that libcst cannot parse gives [].
    """
    names = list(dict.fromkeys(OPERATORS if operators is None else operators))
    program = _Program.parse(code, names)
    if program is None:
        return []
    mutants: list[Mutant] = []
    seen = {code}
    for name in names:
        found = program.sites(name)
        for index in rng.sample(range(len(found)), max(0, min(per_operator, len(found)))):
            mutant = program.mutant(name, found[index])
            if mutant is not None and mutant.code not in seen:
                seen.add(mutant.code)
                mutants.append(mutant)
    return mutants
