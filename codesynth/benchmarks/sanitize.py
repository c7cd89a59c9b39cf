"""Programs out of model answers, for the benchmarks' samples formats.

- :func:`truncate`: a completion cut at the first stop sequence (servers that ignore ``stop``
  are cut here too, as the official harnesses do client-side).
- :func:`program`: the code of a chat answer: fenced blocks, prose around them, an answer
  without fences (:func:`codesynth.llm.extract.extract_code`); trailing prose is dropped.
- :func:`body_after_prompt`: what goes after a HumanEval-style prompt when the answer
  repeats the function: the function's body (its docstring dropped: the prompt has it) and
  the rest of the program after it, so that the prompt's signature appears once.
"""

from __future__ import annotations

import ast
import textwrap

from codesynth.llm.extract import extract_code, parses


def truncate(text: str, stop: tuple[str, ...]) -> str:
    cut = len(text)
    for sequence in stop:
        index = text.find(sequence)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


def program(text: str) -> str:
    """The program in an answer; the answer itself when no code can be found (it then fails
    as the model wrote it, with its own error)."""
    code = extract_code(text)
    if code is not None:
        return code
    return _drop_trailing_prose(text)


def _drop_trailing_prose(text: str) -> str:
    """The longest prefix that parses (as a module, or as a function body when indented),
    when the whole does not: prose after the code."""
    if _parses(text):
        return text
    lines = text.splitlines(keepends=True)
    for end in range(len(lines) - 1, 0, -1):
        head = "".join(lines[:end])
        if head.strip() and _parses(head):
            return head
    return text


def _parses(code: str) -> bool:
    if code.startswith((" ", "\t")):
        return parses("def _body():\n" + code)
    return parses(code)


def body_after_prompt(prompt: str, code: str, entry_point: str | None) -> str:
    """A completion for ``prompt``: ``code`` is a whole answer (the function again, maybe
    imports and helpers) or already a body. The prompt ends inside the entry point's
    definition, so its body comes first, indented, then the other top-level statements."""
    if not entry_point:
        return code
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return _indent_if_body(prompt, code)
    function = next((node for node in tree.body
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                     and node.name == entry_point), None)
    if function is None:
        return _indent_if_body(prompt, code)
    lines = code.splitlines(keepends=True)
    body = function.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and \
            isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring: the prompt holds it
    start = body[0].lineno - 1
    end = function.end_lineno or len(lines)
    inner = textwrap.dedent("".join(lines[start:end]))
    parts = [textwrap.indent(inner, "    ")]
    prompt_names = _imported(prompt)
    for node in tree.body:
        if node is function:
            continue
        segment = "".join(lines[_first_line(node) - 1:node.end_lineno or node.lineno])
        if isinstance(node, ast.Import | ast.ImportFrom) and segment.strip() in prompt_names:
            continue  # the prompt imports it already
        parts.append(segment if segment.endswith("\n") else segment + "\n")
    completion = parts[0]
    rest = "".join(parts[1:])
    if rest:
        completion += "\n\n" + rest
    return completion


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _imported(prompt: str) -> set[str]:
    return {line.strip() for line in prompt.splitlines()
            if line.startswith(("import ", "from "))}


def _indent_if_body(prompt: str, code: str) -> str:
    """Statements written at column 0 that are meant as the body (no ``def``): indented."""
    if code.startswith((" ", "\t")) or not prompt.rstrip().endswith(('"""', "'''")):
        return code
    indented = textwrap.indent(code, "    ")
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):  # a bare ``return``: a body indeed, if it parses as one
        return indented if parses("def _body():\n" + indented) else code
    if any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
           for node in tree.body):
        return code  # helpers of its own: leave the answer as written
    return indented
