"""The prompts of ``nl2sql`` and the reading of its replies: the question in a reply, the
one query in an SQL block, whether a question asks for an order."""

from __future__ import annotations

import re
import sqlite3

from codesynth.llm.extract import fenced_blocks

QUESTION = """Here is a SQLite database:

{schema}

Write one question about the data in these tables that a SQL query can answer (for \
example: how many ..., which ..., what is the average ...). Answer with the question only."""
# Few-shot examples over a table of their own (pets), so that a small model sees the form
# of an answer without being handed the answer to the question it is asked.
QUERY = """Examples.
Tables:
pets(id INTEGER, name TEXT, species TEXT, age INTEGER)
Question: How many rows does the pets table have?
```sql
SELECT COUNT(*) FROM pets
```
Question: What is the average age in the pets table?
```sql
SELECT AVG(age) FROM pets
```
Question: How many rows of the pets table have an age greater than 3?
```sql
SELECT COUNT(*) FROM pets WHERE age > 3
```
Question: How many rows of the pets table are there for each species?
```sql
SELECT species, COUNT(*) FROM pets GROUP BY species
```

Now you.
Tables:
{tables}
Write the SQLite query that answers this question: {question}
Answer with one SELECT query in a ```sql block."""
_QUESTION = re.compile(r"^\W*question\W*[:\-]\s*(.+)$", re.IGNORECASE)
_ORDERED = re.compile(r"\b(order(ed)?|sort(ed)?|rank(ed|ing)?|ascending|descending|"
                      r"alphabetical(ly)?|from (highest|lowest|largest|smallest|oldest|newest)"
                      r"|top \d+)\b", re.IGNORECASE)
_SELECT = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_ECHO = re.compile(r"^\s*(create\s+table|insert\s+into)\b", re.IGNORECASE)


def _statements(sql: str) -> list[str]:
    """The statements of a script (split where SQLite says one is complete), each without
    its ``--`` comment lines and final ``;``."""
    out, current = [], ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            out.append(current)
            current = ""
    out.append(current)
    return [s.strip().rstrip(";").strip() for s in out if s.strip().rstrip(";").strip()]


def sql_block(text: str) -> str | None:
    """The query in a reply's first SQL block. A small model often writes the prompt's
    tables back before its query: CREATE TABLE and INSERT statements before one SELECT are
    dropped (they are echoes, never run). Any other mix is returned as it is, to be refused
    as ``not_a_select``."""
    blocks = [b.code for b in fenced_blocks(text) if b.language in ("sql", "sqlite", "")]
    if not blocks:
        return None
    block = blocks[0].strip().rstrip(";").strip()
    statements = _statements(block)
    selects = [s for s in statements if _SELECT.match(s)]
    if len(statements) > 1 and len(selects) == 1 and \
            all(s is selects[0] or _ECHO.match(s) for s in statements):
        return selects[0]
    return block or None


def parse_question(text: str) -> str | None:
    """The question in a reply: its first line with a question mark, without a
    ``Question:`` label; None when there is none."""
    for line in text.splitlines():
        line = line.strip().strip("*\"'` ")
        match = _QUESTION.match(line)
        line = (match.group(1) if match else line).strip().strip("*\"'` ")
        if "?" in line and len(line.split()) >= 3:
            return line[:line.rindex("?") + 1]
    return None


def single_select(sql: str) -> bool:
    """One SELECT (or WITH ... SELECT) statement: a ``;`` inside is refused (the sandbox's
    ``execute`` would refuse a second statement anyway)."""
    return bool(_SELECT.match(sql)) and ";" not in sql


def asks_for_order(question: str) -> bool:
    return bool(_ORDERED.search(question))


