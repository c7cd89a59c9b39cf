"""EvalPlus (Liu et al., 2023): HumanEval+ and MBPP+ release files (``task_id, prompt,
canonical_solution, entry_point, base_input, plus_input, atol``). A sample (``{task_id,
completion}`` or ``{task_id, solution}``, the whole program) runs twice: on the base inputs and
on the plus inputs, each against the reference's outputs (see :mod:`._evalplus_check`). As
EvalPlus reports them, ``base`` pass@k counts base passes, and ``plus`` counts samples that
pass both.

Known gap: MBPP+ stores some inputs as JSON lists where the task takes tuples or sets;
EvalPlus converts them with a per-task table that is not reproduced here, so those few MBPP+
tasks see lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from codesynth.benchmarks import sanitize
from codesynth.benchmarks._evalplus_check import check_program
from codesynth.benchmarks.base import Problem, Problems, add_problem, require
from codesynth.benchmarks.humaneval import STOP, FunctionPrompt
from codesynth.errors import InputError
from codesynth.records import Execution, Job, Status

PARTS = ("base", "plus")


def evalplus_status(execution: Execution) -> str:
    """EvalPlus's words: pass, fail, timeout."""
    if execution.status is Status.PASSED:
        return "pass"
    return "timeout" if execution.status is Status.TIMEOUT else "fail"


class EvalPlus(FunctionPrompt):
    name = "evalplus"
    description = "HumanEval+ / MBPP+ (EvalPlus): base and plus tests, scored apart"
    stop = STOP
    timeout = 20.0
    metrics = PARTS
    added = ("base_status", "plus_status", "passed", "trace")
    samples_help = "JSONL samples: task_id, completion (or solution: the whole program)"

    def problems_hint(self) -> str:
        return ("an EvalPlus release file, HumanEvalPlus.jsonl(.gz) or MbppPlus.jsonl: task_id, "
                "prompt, canonical_solution, entry_point, base_input, plus_input")

    def parse(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        problems: Problems = {}
        for line, row in rows:
            require(row, where, line, {"task_id": str, "prompt": str,
                                       "canonical_solution": str, "entry_point": str})
            for name in ("base_input", "plus_input"):
                if not isinstance(row.get(name), list) or \
                        not all(isinstance(args, list) for args in row[name]):
                    raise InputError(where, line, "is missing or not a list of argument lists",
                                     name)
            atol = row.get("atol", 0)
            if isinstance(atol, bool) or not isinstance(atol, (int, float)) or atol < 0:
                raise InputError(where, line, "must be a number >= 0", "atol")
            add_problem(problems, Problem(row["task_id"], row["prompt"], row,
                                          row["entry_point"]), where, line)
        return problems

    def check_sample(self, record: dict[str, Any], where: str, line: int,
                     problems: Problems) -> Problem:
        if isinstance(record.get("solution"), str) and "completion" not in record:
            record = {**record, "completion": ""}
        return super().check_sample(record, where, line, problems)

    @staticmethod
    def dataset(problem: Problem) -> str:
        return "mbpp" if problem.task_id.lower().startswith("mbpp/") else "humaneval"

    def sanitize_sample(self, problem: Problem, sample: dict[str, Any]) -> str:
        if isinstance(sample.get("solution"), str):
            return sanitize.program(sample["solution"])
        return self.sanitize(problem, sample["completion"])

    def with_code(self, sample: dict[str, Any], code: str) -> dict[str, Any]:
        field = "solution" if isinstance(sample.get("solution"), str) else "completion"
        return {**sample, field: code}

    def program(self, problem: Problem, sample: dict[str, Any]) -> str:
        solution = sample.get("solution")
        if isinstance(solution, str):
            return solution
        return problem.prompt + sample["completion"]

    def jobs(self, problem: Problem, sample: dict[str, Any], job_id: str) -> list[Job]:
        row = problem.row
        code = self.program(problem, sample)
        reference = row["prompt"] + row["canonical_solution"]
        return [Job(id=f"{job_id}:{part}", code=code,
                    tests=check_program(reference, row["entry_point"], row[f"{part}_input"],
                                        row.get("atol", 0) or 0, self.dataset(problem)),
                    test_style="assert")
                for part in PARTS]

    def row(self, sample: dict[str, Any], executions: list[Execution]) -> dict[str, Any]:
        base, plus = executions
        return {"base_status": evalplus_status(base), "plus_status": evalplus_status(plus),
                "passed": base.passed and plus.passed,
                "trace": {"base": base.to_dict(), "plus": plus.to_dict()}}

    def passed(self, row: dict[str, Any]) -> list[bool]:
        base = row.get("base_status") == "pass"
        return [base, base and row.get("plus_status") == "pass"]
