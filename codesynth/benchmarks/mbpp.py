"""MBPP (Austin et al., 2021) in its original format: ``task_id, text, code, test_list,
test_setup_code, challenge_test_list``. Samples are ``{task_id, completion}``, the completion
being the whole program; it passes when ``test_setup_code`` and every assert of ``test_list``
(and of ``challenge_test_list`` with ``--challenge``) run after it without error.

Sampling follows the paper: tasks 11-510 are the test set, and the prompt shows tasks 2, 3
and 4 (description, three asserts, the solution between ``[BEGIN]`` and ``[DONE]``). Scoring a
samples file covers every task in the problems file.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from codesynth.benchmarks import sanitize
from codesynth.benchmarks.base import Benchmark, Problem, Problems, add_problem, require
from codesynth.errors import InputError, UserError
from codesynth.humaneval import official_result
from codesynth.records import Execution, Job

TEST_SET = range(11, 511)
PROMPT_TASKS = ("2", "3", "4")
STOP = ("[DONE]",)


def describe(row: dict[str, Any]) -> str:
    """The paper's prompt for one task: its description and its asserts."""
    tests = "\n".join(row["test_list"])
    return (f"You are an expert Python programmer, and here is your task: {row['text']} "
            f"Your code should pass these tests:\n\n{tests}\n")


class MBPP(Benchmark):
    name = "mbpp"
    description = "MBPP, original format (pass@k)"
    stop = STOP
    hub_dataset = "google-research-datasets/mbpp:full"
    samples_help = "JSONL samples: task_id, completion (the whole program)"
    integer_ids = True

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--challenge", action="store_true",
                            help="also run each task's challenge_test_list")

    def option_values(self) -> dict[str, Any]:
        return {"challenge": bool(getattr(self.options, "challenge", False))}

    def problems_hint(self) -> str:
        return "mbpp.jsonl in the original format: task_id, text, code, test_list"

    def parse(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        problems: Problems = {}
        for line, row in rows:
            require(row, where, line, {"task_id": (int, str), "text": str, "code": str,
                                       "test_list": list})
            for name in ("challenge_test_list",):
                if name in row and row[name] is not None:
                    require(row, where, line, {name: list})
            if row.get("test_setup_code") is not None:
                require(row, where, line, {"test_setup_code": str})
            if not row["test_list"]:
                raise InputError(where, line, "is empty", "test_list")
            key = str(row["task_id"])
            add_problem(problems, Problem(key, describe(row), row), where, line)
        return problems

    def sampling_ids(self, problems: Problems) -> list[str]:
        ids = [key for key in problems if key.isdigit() and int(key) in TEST_SET]
        if not ids:
            raise UserError("mbpp: the problems hold none of the test set (tasks 11-510)")
        return ids

    def _shots(self, problems: Problems) -> list[Problem]:
        missing = [key for key in PROMPT_TASKS if key not in problems]
        if missing:
            raise UserError(f"mbpp: the 3-shot prompt is made of tasks 2, 3 and 4; the "
                            f"problems lack {', '.join(missing)}")
        return [problems[key] for key in PROMPT_TASKS]

    def completion_prompt(self, problem: Problem, problems: Problems) -> str:
        shots = "".join(f"{shot.prompt}[BEGIN]\n{shot.row['code'].strip()}\n[DONE]\n"
                        for shot in self._shots(problems))
        return f"{shots}{problem.prompt}[BEGIN]\n"

    def chat_messages(self, problem: Problem, problems: Problems) -> list[dict[str, str]]:
        messages = []
        for shot in self._shots(problems):
            messages.append({"role": "user", "content": shot.prompt})
            messages.append({"role": "assistant",
                             "content": f"```python\n{shot.row['code'].strip()}\n```"})
        messages.append({"role": "user", "content": problem.prompt})
        return messages

    def completion_from_reply(self, problem: Problem, text: str, mode: str) -> str:
        if mode == "completion":
            return sanitize.truncate(text, self.stop).strip("\n") + "\n"
        return sanitize.program(text)

    def tests(self, problem: Problem) -> str:
        row = problem.row
        lines = list(row["test_list"])
        if self.option_values()["challenge"]:
            lines += row.get("challenge_test_list") or []
        return "\n".join(lines) + "\n"

    def jobs(self, problem: Problem, sample: dict[str, Any], job_id: str) -> list[Job]:
        """``test_setup_code`` runs after the program, in the program's own module (its
        names, such as a constant the solution reads, are the program's globals, as in a
        plain run of the three together); the asserts are the tests."""
        setup = (problem.row.get("test_setup_code") or "").strip()
        code = sample["completion"] + ("\n" + setup + "\n" if setup else "")
        return [Job(id=job_id, code=code, tests=self.tests(problem), test_style="assert")]

    def row(self, sample: dict[str, Any], executions: list[Execution]) -> dict[str, Any]:
        execution = executions[0]
        return {"passed": execution.passed, "result": official_result(execution),
                "trace": execution.to_dict()}
