"""Code out of model replies: several fenced blocks, no fence, an unterminated fence, prose
around it. A reply with no code gives ``None`` (callers record a rejection)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
_ALIASES = {"py": "python", "python3": "python", "js": "javascript", "ts": "typescript",
            "sh": "bash", "shell": "bash", "c++": "cpp", "rs": "rust", "golang": "go"}
_CODE_START = re.compile(r"^(def |class |import |from |async def |@)")


@dataclass(frozen=True)
class Block:
    language: str  # "" when the fence names none
    code: str
    closed: bool


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced block in order; an unterminated last fence runs to the end."""
    blocks = []
    position = 0
    while True:
        opening = _FENCE.search(text, position)
        if opening is None:
            break
        fence, tag = opening.group(1), opening.group(2).lower()
        start = opening.end() + 1
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$",
                             re.MULTILINE).search(text, start)
        end = closing.start() if closing else len(text)
        blocks.append(Block(_ALIASES.get(tag, tag), text[start:end].rstrip() + "\n",
                            closing is not None))
        if closing is None:
            break
        position = closing.end()
    return [b for b in blocks if b.code.strip()]


def parses(code: str, language: str = "python") -> bool:
    if language != "python":
        return bool(code.strip())
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def extract_code(text: str, language: str = "python") -> str | None:
    """The program in a reply: the longest well-formed block in ``language`` (or untagged);
    without fences, the reply itself or its longest run of code-looking lines."""
    if not text or not text.strip():
        return None
    blocks = [b for b in fenced_blocks(text) if b.language in (language, "")]
    tagged = [b for b in blocks if b.language == language]
    for group in (tagged, blocks):
        good = [b.code for b in group if parses(b.code, language)]
        if good:
            return max(good, key=len)
    if blocks:
        return None  # fenced, but nothing in it is a program
    if language == "python":
        return _unfenced_python(text)
    return None


def _unfenced_python(text: str) -> str | None:
    lines = text.strip("\n").splitlines()
    whole = "\n".join(lines) + "\n"
    if any(_CODE_START.match(line) for line in lines) and parses(whole):
        return whole
    best: str | None = None
    for start, line in enumerate(lines):
        if not _CODE_START.match(line):
            continue
        for end in range(len(lines), start, -1):
            candidate = "\n".join(lines[start:end]).rstrip() + "\n"
            if parses(candidate):
                if best is None or len(candidate) > len(best):
                    best = candidate
                break
    return best


def function_names(code: str) -> list[str]:
    """Top-level function names of a Python program (for entry points)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
