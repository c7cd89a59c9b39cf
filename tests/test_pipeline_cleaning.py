"""Dedup (exact and MinHash near-duplicates) and n-gram decontamination, unit by unit."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.humaneval import load_problems
from codesynth.pipeline.decontam import NgramIndex, load_benchmarks
from codesynth.pipeline.dedup import Deduplicator

LONG_CODE = """def running_stats(values):
    count = 0
    total = 0.0
    smallest = None
    largest = None
    for value in values:
        count += 1
        total += value
        if smallest is None or value < smallest:
            smallest = value
        if largest is None or value > largest:
            largest = value
    mean = total / count if count else 0.0
    return {"count": count, "mean": mean, "min": smallest, "max": largest}
"""
INSTRUCTION = ("Write a function running_stats(values) that walks once over a list of numbers "
               "and returns a dictionary with their count, their mean, the smallest and the "
               "largest value, using None for the extremes of an empty list.")
REWORDED = INSTRUCTION.replace("walks once over", "goes once through")


def rec(rid: str, instruction: str = "", code: str = "") -> dict[str, Any]:
    return {"id": rid, "instruction": instruction, "code": code}


def test_exact_duplicates_ignore_case_punctuation_comments_and_layout() -> None:
    dedup = Deduplicator()
    assert dedup.check(rec("a", INSTRUCTION, LONG_CODE)) is None
    shouted = INSTRUCTION.upper().replace(",", " ;")
    assert dedup.check(rec("b", shouted, "pass")) == "exact_duplicate_instruction"
    commented = LONG_CODE.replace("    count = 0\n", "    count = 0  # how many\n\n")
    assert dedup.check(rec("c", "Something else entirely.", commented)) == \
        "exact_duplicate_code"


def test_near_duplicates_are_caught_and_distinct_records_kept() -> None:
    dedup = Deduplicator(threshold=0.7)
    assert dedup.check(rec("a", INSTRUCTION, LONG_CODE)) is None
    assert dedup.check(rec("b", REWORDED, "")) == "near_duplicate_instruction"
    edited = LONG_CODE.replace('"max": largest}', '"max": largest, "sum": total}')
    assert dedup.check(rec("c", "", edited)) == "near_duplicate_code"
    other = rec("d", "Write a function that reverses the words of a sentence, keeping "
                     "punctuation attached to the word it follows.",
                "def reverse_words(s):\n    return ' '.join(reversed(s.split()))\n")
    assert dedup.check(other) is None


def test_only_the_enabled_kinds_and_fields_are_checked() -> None:
    exact_only = Deduplicator(near=False)
    assert exact_only.check(rec("a", INSTRUCTION, LONG_CODE)) is None
    assert exact_only.check(rec("b", REWORDED, "x = 1")) is None
    code_only = Deduplicator(fields=("code",))
    assert code_only.check(rec("a", INSTRUCTION, LONG_CODE)) is None
    assert code_only.check(rec("b", INSTRUCTION, "x = 2")) is None


words = st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=6), min_size=1,
                 max_size=30)


@settings(max_examples=60, deadline=None)
@given(words, st.sampled_from([" ", "  ", "\t", " , ", "! "]), st.booleans())
def test_a_reformatted_instruction_is_always_an_exact_duplicate(
        parts: list[str], separator: str, upper: bool) -> None:
    dedup = Deduplicator(fields=("instruction",), near=False)
    assert dedup.check(rec("a", " ".join(parts))) is None
    variant = separator.join(parts)
    assert dedup.check(rec("b", variant.upper() if upper else variant)) == \
        "exact_duplicate_instruction"


def test_ngram_overlap_finds_a_copied_benchmark_prompt() -> None:
    index = NgramIndex(load_benchmarks(["humaneval"]))
    problem = load_problems()["HumanEval/12"]
    docstring = problem["prompt"].split('"""')[1]
    assert index.match(rec("a", f"Please solve this: {docstring}")) == "HumanEval/12"
    assert index.match(rec("b", code=problem["canonical_solution"])) == "HumanEval/12"
    assert index.match(rec("c", INSTRUCTION, LONG_CODE)) is None
