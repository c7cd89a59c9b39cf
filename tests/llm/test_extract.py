"""Code extraction from model replies: robust to every shape a reply takes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.llm.extract import extract_code, fenced_blocks, function_names

SOLUTION = "def add(a, b):\n    return a + b\n"


def test_one_fenced_block_with_prose_around() -> None:
    reply = f"Sure! Here it is:\n\n```python\n{SOLUTION}```\n\nThis adds two numbers."
    assert extract_code(reply) == SOLUTION


def test_several_blocks_prefer_the_tagged_longest_program() -> None:
    reply = ("Usage:\n```\nadd(1, 2)\n```\nSolution:\n```python\n" + SOLUTION
             + "```\nTests:\n```python\nassert add(1, 2) == 3\n```\nShell:\n```bash\nls\n```")
    assert extract_code(reply) == SOLUTION
    assert [b.language for b in fenced_blocks(reply)] == ["", "python", "python", "bash"]


def test_unterminated_fence_runs_to_the_end() -> None:
    reply = "Here:\n```python\n" + SOLUTION
    assert extract_code(reply) == SOLUTION
    assert not fenced_blocks(reply)[0].closed


def test_tilde_fences_and_aliases() -> None:
    assert extract_code("~~~py\n" + SOLUTION + "~~~\n") == SOLUTION


def test_no_fence_whole_reply_is_code() -> None:
    assert extract_code(SOLUTION) == SOLUTION


def test_no_fence_code_inside_prose() -> None:
    reply = "The function is below.\n" + SOLUTION + "It returns the sum."
    assert extract_code(reply) == SOLUTION


def test_replies_without_code_give_none() -> None:
    for reply in ("", "   ", "I'm sorry, I cannot help with that.",
                  "```python\nthis is not python at all (\n```", "```\n\n```"):
        assert extract_code(reply) is None, reply


def test_blocks_in_another_language_are_not_python() -> None:
    assert extract_code("```javascript\nfunction add(a, b) { return a + b; }\n```") is None
    assert extract_code("```javascript\nconst x = 1;\n```", language="javascript") == \
        "const x = 1;\n"


def test_function_names() -> None:
    assert function_names(SOLUTION + "class A:\n    pass\nasync def b():\n    pass\n") == \
        ["add", "b"]
    assert function_names("def (") == []


PROSE = st.text(alphabet=st.characters(blacklist_characters="`~", blacklist_categories=("Cs",)),
                max_size=200)
NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n not in {"def", "if", "in", "is", "or", "as", "and", "for", "not", "try", "del",
                        "pass", "from", "with", "else", "elif", "while", "class", "yield",
                        "async", "await", "break", "raise", "global", "lambda", "return",
                        "import", "assert", "except", "finally", "continue", "nonlocal"})


@settings(max_examples=200, deadline=None)
@given(before=PROSE, after=PROSE, name=NAMES, value=st.integers())
def test_a_fenced_program_comes_back_exactly(before: str, after: str, name: str,
                                            value: int) -> None:
    program = f"def {name}(x):\n    return x + {value}\n"
    reply = f"{before}\n```python\n{program}```\n{after}"
    assert extract_code(reply) == program
