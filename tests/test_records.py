"""The data model: every record round-trips exactly through JSON; ids are stable; limits check."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from typing import Any, TypeVar

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from codesynth.records import (
    Candidate,
    ExceptionInfo,
    Execution,
    Job,
    Limits,
    Origin,
    Status,
    Task,
    TestOutcome,
    _Record,
    canonical_json,
    content_id,
)

# no per-example deadline: the suite shares a small machine with sandboxed jobs
relaxed = settings(deadline=None)

R = TypeVar("R", bound=_Record)

# ---------------------------------------------------------------------------------------------
# strategies

text = st.text(max_size=40)  # full unicode (hypothesis leaves out lone surrogates)
opt_text = st.none() | text
finite = st.floats(allow_nan=False, allow_infinity=False)
opt_int = st.none() | st.integers()
positive = st.floats(min_value=0, exclude_min=True, allow_nan=False, allow_infinity=False)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)

limits_st = st.builds(
    Limits,
    timeout=positive,
    cpu_time=st.none() | positive,
    memory_mb=st.integers(min_value=16, max_value=1 << 40),
    max_processes=st.integers(min_value=1, max_value=1 << 20),
    file_size_mb=st.integers(min_value=1, max_value=1 << 30),
    max_output=st.integers(min_value=0, max_value=1 << 40),
)

outcomes_st = st.builds(
    TestOutcome,
    name=text,
    outcome=st.sampled_from(["passed", "failed", "error", "skipped"]),
    line=opt_int,
    source=opt_text,
    message=opt_text,
    duration=st.none() | finite,
)

exception_st = st.builds(
    ExceptionInfo, type=text, message=text, traceback=text, line=opt_int, detail=text)

execution_st = st.builds(
    Execution,
    status=st.sampled_from(Status),
    reason=text,
    tests=st.lists(outcomes_st, max_size=4).map(tuple),
    exception=st.none() | exception_st,
    stdout=text,
    stderr=text,
    stdout_bytes=st.integers(min_value=0),
    stderr_bytes=st.integers(min_value=0),
    stdout_truncated=st.booleans(),
    stderr_truncated=st.booleans(),
    exit_code=opt_int,
    signal=opt_int,
    duration=finite,
    cpu_time=finite,
    memory_peak_mb=st.none() | finite,
    limits=limits_st,
    backend=text,
    isolation=text,
    runtime=text,
)

origin_st = st.builds(
    Origin,
    method=text,
    model=opt_text,
    template_hash=opt_text,
    parent_ids=st.lists(text, max_size=4).map(tuple),
    round=st.integers(),
    seed=opt_int,
    params=st.dictionaries(text, json_values, max_size=4),
)

stdio_tests = st.lists(st.fixed_dictionaries({"input": text, "output": text}), max_size=3)
tests_st = st.none() | text | stdio_tests | json_values

task_st = st.builds(
    Task,
    id=text,
    instruction=text,
    language=text,
    tests=tests_st,
    test_style=st.sampled_from(["assert", "humaneval", "pytest", "stdio"]),
    entry_point=opt_text,
    reference=opt_text,
    origin=st.none() | origin_st,
)

candidate_st = st.builds(
    Candidate,
    id=text,
    task_id=text,
    code=text,
    model=opt_text,
    request_hash=opt_text,
    sample_index=st.integers(),
)

nonblank = text.filter(lambda t: bool(t.strip()))
job_st = st.one_of(
    st.builds(Job, id=text, code=text, tests=nonblank,
              test_style=st.sampled_from(["assert", "pytest"]), entry_point=opt_text),
    st.builds(Job, id=text, code=text, tests=nonblank, test_style=st.just("humaneval"),
              entry_point=text.filter(bool)),
    st.builds(Job, id=text, code=text, tests=stdio_tests.filter(bool),
              test_style=st.just("stdio"), entry_point=opt_text),
)


def through_json(record: R, ensure_ascii: bool = True) -> R:
    data = record.to_dict()
    return type(record).from_dict(json.loads(json.dumps(data, ensure_ascii=ensure_ascii)))


def assert_round_trip(record: _Record) -> None:
    data = record.to_dict()
    # to_dict is plain JSON already: nothing changes on the way through the text form
    assert json.loads(json.dumps(data)) == data
    for ensure_ascii in (True, False):
        back = through_json(record, ensure_ascii)
        assert back == record
        assert type(back) is type(record)
        assert back.to_dict() == data


# ---------------------------------------------------------------------------------------------
# round trips


def test_every_record_that_decodes_names_the_fields_it_decodes() -> None:
    # from_dict calls _decode only for the fields in _DECODED: an override that forgot to
    # name its fields would silently leave them undecoded.
    import codesynth.records as records

    for cls in vars(records).values():
        if isinstance(cls, type) and issubclass(cls, records._Record) and \
                cls is not records._Record and "_decode" in vars(cls):
            assert cls._DECODED, cls.__name__


@relaxed
@given(execution_st)
def test_execution_round_trips(execution: Execution) -> None:
    assert_round_trip(execution)
    back = through_json(execution)
    assert type(back.status) is Status
    assert isinstance(back.tests, tuple)
    assert all(type(t) is TestOutcome for t in back.tests)
    assert back.exception is None or type(back.exception) is ExceptionInfo
    assert type(back.limits) is Limits


@relaxed
@given(task_st)
def test_task_round_trips(task: Task) -> None:
    assert_round_trip(task)
    back = through_json(task)
    assert back.origin is None or type(back.origin) is Origin


@relaxed
@given(origin_st)
def test_origin_round_trips(origin: Origin) -> None:
    assert_round_trip(origin)
    assert isinstance(through_json(origin).parent_ids, tuple)


@relaxed
@given(candidate_st)
def test_candidate_round_trips(candidate: Candidate) -> None:
    assert_round_trip(candidate)


@relaxed
@given(limits_st)
def test_limits_round_trip(limits: Limits) -> None:
    assert_round_trip(limits)


@relaxed
@given(job_st)
def test_job_round_trips(job: Job) -> None:
    assert_round_trip(job)


@relaxed
@given(code=st.one_of(text, st.integers()), tests=st.one_of(text, stdio_tests, st.none()),
       style=st.one_of(st.sampled_from(["assert", "humaneval", "pytest", "stdio"]), text),
       entry_point=st.one_of(opt_text, st.integers()), language=st.one_of(st.just("python"), text))
def test_job_is_built_exactly_when_its_fields_are_valid(
        code: object, tests: object, style: object, entry_point: object, language: object
) -> None:
    from codesynth.records import job_problem

    problem = job_problem(code, tests, style, entry_point, language)
    if problem is None:
        Job(id="j", code=code, tests=tests, test_style=style,  # type: ignore[arg-type]
            entry_point=entry_point, language=language)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValueError, match=re.escape(problem[0])):
            Job(id="j", code=code, tests=tests, test_style=style,  # type: ignore[arg-type]
                entry_point=entry_point, language=language)  # type: ignore[arg-type]


@relaxed
@given(outcomes_st, exception_st)
def test_nested_records_round_trip_alone(outcome: TestOutcome, info: ExceptionInfo) -> None:
    assert_round_trip(outcome)
    assert_round_trip(info)


@relaxed
@given(execution_st, st.dictionaries(st.text(min_size=1).map(lambda s: "x-" + s), json_values,
                                     max_size=3))
def test_from_dict_ignores_unknown_fields(execution: Execution, extra: dict[str, Any]) -> None:
    data = {**execution.to_dict(), **extra}
    assert Execution.from_dict(data) == execution


def test_defaults_fill_missing_fields() -> None:
    execution = Execution.from_dict({"status": "timeout"})
    assert execution == Execution(status=Status.TIMEOUT)
    assert execution.limits == Limits()
    assert Job.from_dict({"id": "a", "code": "x", "tests": "assert x"}).test_style == "assert"
    assert Task.from_dict({"id": "t", "instruction": "do"}).origin is None


def test_execution_to_dict_serializes_enum_and_nesting() -> None:
    execution = Execution(
        status=Status.FAILED,
        tests=(TestOutcome(name="tests.py:1", outcome="failed", line=1, source="assert f() == 2",
                           message="AssertionError: assert 1 == 2"),),
        exception=ExceptionInfo(type="AssertionError", message="", line=1, detail="1 != 2"),
        limits=Limits(timeout=2.5, memory_mb=64),
        stdout="héllo ✓ 𝄞\n",
    )
    data = execution.to_dict()
    assert data["status"] == "failed"
    assert data["tests"] == [{"name": "tests.py:1", "outcome": "failed", "line": 1,
                              "source": "assert f() == 2",
                              "message": "AssertionError: assert 1 == 2", "duration": None}]
    assert data["exception"]["detail"] == "1 != 2"
    assert data["limits"]["timeout"] == 2.5 and data["limits"]["cpu_time"] is None
    assert through_json(execution) == execution


# ---------------------------------------------------------------------------------------------
# Execution.passed


@pytest.mark.parametrize("status", list(Status))
def test_passed_only_for_status_passed(status: Status) -> None:
    execution = Execution(status=status)
    assert execution.passed is (status is Status.PASSED)
    data = execution.to_dict()
    assert data["passed"] is execution.passed
    assert list(data)[:2] == ["passed", "status"]
    assert data["status"] == status.value


@relaxed
@given(execution_st)
def test_to_dict_passed_matches_status(execution: Execution) -> None:
    data = execution.to_dict()
    assert data["passed"] is (data["status"] == "passed")


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.PASSED])
def test_a_forged_passed_field_is_ignored(status: Status) -> None:
    data = {**Execution(status=status).to_dict(), "passed": True}
    assert Execution.from_dict(data).passed is False


def test_status_values_are_strings() -> None:
    assert [s.value for s in Status] == ["passed", "failed", "error", "timeout", "memory",
                                         "crashed", "output_limit", "sandbox_error"]
    with pytest.raises(ValueError):
        Execution.from_dict({"status": "green"})


def test_infrastructure_fault() -> None:
    limits = Limits(timeout=1)
    fault = Execution.infrastructure_fault("runner died", limits, "local")
    assert fault.status is Status.SANDBOX_ERROR and not fault.passed
    assert (fault.reason, fault.limits, fault.backend) == ("runner died", limits, "local")


# ---------------------------------------------------------------------------------------------
# content_id


def test_content_id_is_sha256_of_canonical_json() -> None:
    expected = hashlib.sha256('["a",1,{"x":[true,null],"y":"é"}]'.encode()).hexdigest()
    assert content_id("a", 1, {"y": "é", "x": [True, None]}) == expected[:16]
    assert content_id("a", 1, {"y": "é", "x": [True, None]}, length=64) == expected
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


@relaxed
@given(st.lists(json_values, max_size=5), st.integers(min_value=1, max_value=64))
def test_content_id_is_deterministic(parts: list[Any], length: int) -> None:
    first = content_id(*parts, length=length)
    assert first == content_id(*parts, length=length)
    assert len(first) == length
    assert all(c in "0123456789abcdef" for c in first)
    assert content_id(*parts, length=64).startswith(first)
    # a copy through JSON (new objects, same content) gets the same id
    assert content_id(*json.loads(json.dumps(parts)), length=length) == first


@relaxed
@given(json_values, json_values)
def test_content_id_is_order_sensitive(a: Any, b: Any) -> None:
    assume(canonical_json(a) != canonical_json(b))
    assert content_id(a, b) != content_id(b, a)
    assert content_id(a) != content_id(b)


@relaxed
@given(st.dictionaries(text, json_values, min_size=2, max_size=6))
def test_content_id_ignores_dict_key_order(mapping: dict[str, Any]) -> None:
    reordered = dict(reversed(list(mapping.items())))
    assert content_id(mapping) == content_id(reordered)


def test_content_id_separates_parts() -> None:
    assert content_id("ab") != content_id("a", "b")
    assert content_id(["a", "b"]) != content_id("a", "b")
    assert content_id(1) != content_id("1") != content_id(1.0)
    assert content_id() == hashlib.sha256(b"[]").hexdigest()[:16]


def test_content_id_is_stable_across_processes() -> None:
    parts = ("task", {"z": 1, "a": [1.5, "ü"]}, 3)
    code = ("from codesynth.records import content_id; "
            "print(content_id('task', {'a': [1.5, 'ü'], 'z': 1}, 3))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": "12345"},
                           encoding="utf-8")
    assert other.stdout.strip() == content_id(*parts)


# ---------------------------------------------------------------------------------------------
# Limits


@pytest.mark.parametrize(("field", "value"), [
    ("timeout", 0), ("timeout", -1.0), ("timeout", math.nan), ("timeout", -math.inf),
    ("cpu_time", 0), ("cpu_time", -0.5), ("cpu_time", math.nan),
    ("memory_mb", 15), ("memory_mb", 0), ("memory_mb", -1024),
    ("max_processes", 0), ("max_processes", -1),
    ("file_size_mb", 0), ("file_size_mb", -5),
    ("max_output", -1),
])
def test_limits_reject_invalid_values(field: str, value: float) -> None:
    kwargs: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=f"invalid limit {field}="):
        Limits(**kwargs)
    with pytest.raises(ValueError, match=field):
        Limits.from_dict({**Limits().to_dict(), field: value})


@relaxed
@given(st.floats(max_value=0, allow_nan=False))
def test_limits_reject_any_non_positive_timeout(value: float) -> None:
    with pytest.raises(ValueError):
        Limits(timeout=value)


@relaxed
@given(st.integers(max_value=15))
def test_limits_reject_too_little_memory(value: int) -> None:
    with pytest.raises(ValueError):
        Limits(memory_mb=value)


def test_limits_accept_boundaries() -> None:
    limits = Limits(timeout=0.001, cpu_time=0.001, memory_mb=16, max_processes=1,
                    file_size_mb=1, max_output=0)
    assert limits.memory_mb == 16 and limits.max_output == 0


@relaxed
@given(limits_st)
def test_effective_cpu_time(limits: Limits) -> None:
    expected = limits.timeout if limits.cpu_time is None else limits.cpu_time
    assert limits.effective_cpu_time == expected


@pytest.mark.parametrize("field", ["timeout", "cpu_time"])
def test_limits_reject_infinite_time(field: str) -> None:
    kwargs: dict[str, Any] = {field: math.inf}
    with pytest.raises(ValueError):
        Limits(**kwargs)


def test_limits_are_frozen() -> None:
    limits = Limits()
    with pytest.raises(AttributeError):
        limits.timeout = 5  # type: ignore[misc]
