"""Tasks in any registered language, in the ``stdio`` test form (language-neutral).

A generator asked for ``--param language=go`` asks the model for a task, a program in that
language that reads standard input and writes standard output, and test cases written as
``Input:``/``Output:`` blocks. The cases are the record's ``tests`` (``test_style:
"stdio"``); the program is extracted from the block fenced with the language's name (or an
alias: ``js``, ``ts``, ``c++``, ``rs``, ``golang``). :func:`check_stdio` runs drafts in the
sandbox like every other job: only programs that pass their cases are kept, every other one
is a rejection with its reason (``no_code``, ``no_tests``, ``tests_failed``,
``tests_error`` for a compile error...).
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codesynth.generators.params import Param
from codesynth.llm.extract import extract_code, fenced_blocks
from codesynth.records import LANGUAGES, Execution, Job

NAMES = {"python": "Python", "javascript": "JavaScript (Node.js)", "typescript":
         "TypeScript (Node.js)", "cpp": "C++17", "go": "Go", "rust": "Rust", "java": "Java"}

LANGUAGE = Param("language", str, "python", "the language of the programs: python keeps "
                 "this generator's own Python form; any other writes programs that read "
                 "stdin and print to stdout, with stdio test cases", choices=LANGUAGES)
SNIPPET_LANGUAGE = Param("language", str, "snippet", "the language of the programs; snippet "
                         "(the default): the seed snippet's own when it is one of these, else "
                         "python (the record's origin says why); python: this generator's "
                         "own Python form; any other: programs that read stdin and print to "
                         "stdout, with stdio cases", choices=(*LANGUAGES, "snippet"))

LANGUAGES_PARAM = Param("languages", list, None, "several languages (a list, or a "
                        "comma-separated string): each request, parent or snippet gets one, "
                        "in turn; replaces language", choices=LANGUAGES)


def languages_of(ctx: Any, single: Param) -> list[str]:
    """The languages a run writes in: ``languages`` when given, else ``[language]``."""
    several = ctx.param(LANGUAGES_PARAM)
    return list(several) if several else [ctx.param(single)]


def pick(languages: Sequence[str], key: object) -> str:
    """The language of one unit of work (a request number, a parent's or snippet's id):
    the same for the same key in every run."""
    if len(languages) == 1:
        return languages[0]
    if isinstance(key, int):
        return languages[key % len(languages)]
    return languages[zlib.crc32(str(key).encode()) % len(languages)]


# One tiny program per language: what "reads stdin, prints stdout" looks like there.
EXAMPLES = {
    "python": "n = int(input())\nprint(n * 2)\n",
    "javascript": "const n = parseInt(require('fs').readFileSync(0, 'utf8'));\n"
                  "console.log(n * 2);\n",
    "typescript": "const n: number = parseInt(require('fs').readFileSync(0, 'utf8'));\n"
                  "console.log(n * 2);\n",
    "cpp": "#include <iostream>\nusing namespace std;\n\nint main() {\n"
           "    long long n; cin >> n;\n    cout << n * 2 << endl;\n    return 0;\n}\n",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tvar n int\n\tfmt.Scan(&n)\n"
          "\tfmt.Println(n * 2)\n}\n",
    "rust": "use std::io::Read;\n\nfn main() {\n    let mut s = String::new();\n"
            "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
            "    let n: i64 = s.trim().parse().unwrap();\n    println!(\"{}\", n * 2);\n}\n",
    "java": "import java.util.Scanner;\n\npublic class Main {\n"
            "    public static void main(String[] args) {\n"
            "        Scanner in = new Scanner(System.in);\n        long n = in.nextLong();\n"
            "        System.out.println(n * 2);\n    }\n}\n",
}
EXAMPLE_TASK = "Read an integer n and print n * 2."
EXAMPLE_CASES = (("4\n", "8\n"), ("-3\n", "-6\n"))
# Worked examples as earlier turns of the conversation (a small model follows those far
# better than an example inside the request): the same program with another expression.
SHOTS = (("Read an integer n and print n * 2.", "n * 2"),
         ("Read an integer n and print n - 3.", "n - 3"),
         ("Read an integer n and print n * n * n.", "n * n * n"))


def few_shot(language: str, request: str, instruction: str) -> list[dict[str, str]]:
    """Chat messages: ``request`` (formatted with ``instruction``) answered for each shot in
    ``language``, then asked for ``instruction``."""
    messages = []
    for task, expression in SHOTS:
        program = EXAMPLES[language].replace("n * 2", expression)
        messages += [{"role": "user", "content": request.format(instruction=task)},
                     {"role": "assistant", "content": f"```{language}\n{program}```"}]
    return [*messages, {"role": "user", "content": request.format(instruction=instruction)}]

ANSWER = """Answer with the complete {name} program in one ```{language} block. The program \
reads its input from standard input and prints the answer to standard output. Then give 2 \
to 4 test cases, each as an Input: block and an Output: block.
"""


def cases_text(cases: Sequence[tuple[str, str]]) -> str:
    return "".join(f"Input:\n```\n{i}```\nOutput:\n```\n{o}```\n" for i, o in cases)


def example(language: str) -> str:
    """A worked example of the answer format in ``language``."""
    return (f"Task: {EXAMPLE_TASK}\n```{language}\n{EXAMPLES[language]}```\n"
            + cases_text(EXAMPLE_CASES))


def answer_prompt(language: str) -> str:
    return ANSWER.format(name=NAMES[language], language=language) \
        + "\nExample:\n" + example(language)


_LABEL = re.compile(r"^[ \t*#>-]*(?:example\s+|sample\s+)?(input|output)[ \t*]*:?[ \t*]*$"
                    r"|^[ \t*#>-]*(?:example\s+|sample\s+)?(input|output)[ \t*]*:[ \t*]*(\S.*)$",
                    re.IGNORECASE | re.MULTILINE)


def parse_cases(text: str) -> list[dict[str, str]]:
    """``[{input, output}]`` from ``Input:``/``Output:`` labels, each followed by a fenced
    block (or, for one line, by the value on the label's line). An ``Input`` without its
    ``Output`` is dropped; outputs end with a newline."""
    cases: list[dict[str, str]] = []
    pending: str | None = None
    for match in _LABEL.finditer(text or ""):
        kind = (match.group(1) or match.group(2)).lower()
        if match.group(3) is not None:
            value: str | None = match.group(3).strip().strip("`") + "\n"
        else:
            rest = text[match.end():]
            blocks = fenced_blocks(rest)
            lead = rest.lstrip()
            value = blocks[0].code if blocks and lead.startswith(("```", "~~~")) else None
        if value is None:
            pending = None if kind == "input" else pending
            continue
        if kind == "input":
            pending = value
        elif pending is not None:
            cases.append({"input": pending, "output": value})
            pending = None
    return cases


def split_answer(text: str | None, language: str) -> tuple[str | None, list[dict[str, str]]]:
    """(program, stdio cases) from a reply in ``language``; the cases' own fences do not
    count as the program."""
    if not text:
        return None, []
    head = re.split(r"^[ \t*#>-]*(?:example\s+|sample\s+)?input[ \t*]*:", text, maxsplit=1,
                    flags=re.IGNORECASE | re.MULTILINE)[0]
    code = extract_code(head, language) if head.strip() else None
    return code, parse_cases(text)


@dataclass
class Draft:
    """A program with its cases, and what to put in the record when it passes."""

    key: str
    language: str
    code: str
    cases: list[dict[str, str]]
    detail: dict[str, Any]


def draft_problem(code: str | None, cases: list[dict[str, str]]) -> str | None:
    if code is None:
        return "no_code"
    if not cases:
        return "no_tests"
    return None


def stdio_job(job_id: str, language: str, code: str, cases: list[dict[str, str]]) -> Job:
    return Job(id=job_id, code=code, tests=cases, test_style="stdio", language=language)


async def check_stdio(ctx: Any, drafts: list[Draft]) -> list[Execution | None]:
    """Run each draft's program on its cases; a failed one is rejected with its reason
    (``tests_<status>``) and ``None`` stands for it."""
    if not drafts:
        return []
    jobs = [stdio_job(d.key, d.language, d.code, d.cases) for d in drafts]
    results = await asyncio.to_thread(lambda: list(ctx.sandbox.run_many(jobs, ctx.limits)))
    kept: list[Execution | None] = []
    for draft, execution in zip(drafts, results, strict=True):
        if execution.passed:
            kept.append(execution)
            continue
        ctx.reject(f"tests_{execution.status.value}", language=draft.language,
                   message=(execution.reason or "")[:200], **draft.detail)
        kept.append(None)
    return kept


def stdio_fields(language: str, cases: list[dict[str, str]]) -> dict[str, Any]:
    """What a record in the stdio form carries besides the generator's own fields."""
    return {"language": language, "tests": cases, "test_style": "stdio", "entry_point": None}
