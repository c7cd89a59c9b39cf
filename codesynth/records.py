"""The one data model: tasks, candidate programs, sandbox jobs and execution results.

Every record is a frozen dataclass that round-trips through JSON (``to_dict`` / ``from_dict``).
Ids derived from content (:func:`content_id`) make resume and dedup deterministic.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from codesynth._ids import canonical_json, content_id  # noqa: F401 - re-exported

TEST_STYLES = ("assert", "humaneval", "pytest", "stdio", "native")
LANGUAGES = ("python", "javascript", "typescript", "cpp", "go", "rust", "java")


class Status(enum.StrEnum):
    """How an execution ended. Only ``passed`` means the tests ran to the end and all passed."""

    PASSED = "passed"
    FAILED = "failed"  # a test failed (or the program left while the tests ran)
    ERROR = "error"  # syntax/import/runtime error before the tests could run
    TIMEOUT = "timeout"  # wall-time or CPU-time limit
    MEMORY = "memory"  # memory limit (cgroup OOM kill or MemoryError)
    CRASHED = "crashed"  # killed by a signal
    OUTPUT_LIMIT = "output_limit"  # stdout/stderr grew past the file-size limit
    SANDBOX_ERROR = "sandbox_error"  # infrastructure fault: no verdict about the program


_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings replaced by U+FFFD. A JSON escape
    such as ``"\\ud800"`` decodes to one; it has no UTF-8 form, so it would stop whatever
    writes the text later (a file, Arrow). Applied where text comes from outside: the
    model's replies and the sandbox's traces."""
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


class _Record:
    """JSON round-trip for flat-or-nested frozen dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    _DECODED: ClassVar[tuple[str, ...]] = ()  # the fields ``_decode`` changes

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        known = _FIELD_NAMES.get(cls)
        if known is None:
            known = _FIELD_NAMES[cls] = tuple(
                f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        values = {name: data[name] for name in known if name in data}
        for name in cls._DECODED:
            if name in values:
                values[name] = cls._decode(name, values[name])
        return cls(**values)

    @classmethod
    def _decode(cls, name: str, value: Any) -> Any:
        return value


_LEAVES = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _LEAVES:  # most values: checked first, exactly (a str Enum is not a leaf)
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


WALL_BACKSTOP = 4.0  # × timeout: how long a job still using the CPU may run on a busy machine


@dataclass(frozen=True)
class Limits(_Record):
    """Resource limits for one execution. ``cpu_time`` defaults to ``timeout``.

    Time: a job that is not using the CPU (asleep, blocked) is stopped at ``timeout`` wall
    seconds; one that is still running goes on until ``cpu_time`` CPU seconds (the whole
    tree, where a cgroup measures it), and at most ``wall_time`` wall seconds (default
    ``WALL_BACKSTOP`` × ``timeout``): a loaded machine does not turn slow-but-correct programs
    into timeouts. The trace's ``limit`` says which limit fired."""

    timeout: float = 10.0  # wall seconds for a job not using the CPU
    cpu_time: float | None = None  # CPU seconds (the tree); None: same as timeout
    memory_mb: int = 1024  # the whole process tree (cgroup), else per process
    max_processes: int = 64
    file_size_mb: int = 64  # any file the program writes, stdout/stderr included
    max_output: int = 65536  # bytes of each stream kept in the trace
    strict: bool = False  # tests comparing with builtin values accept only builtin values
    wall_time: float | None = None  # the wall backstop; None: WALL_BACKSTOP × timeout

    def __post_init__(self) -> None:
        checks = {
            "timeout": math.isfinite(self.timeout) and self.timeout > 0,
            "cpu_time": self.cpu_time is None or (math.isfinite(self.cpu_time)
                                                  and self.cpu_time > 0),
            "wall_time": self.wall_time is None or (math.isfinite(self.wall_time)
                                                    and self.wall_time >= self.timeout),
            "memory_mb": self.memory_mb >= 16,
            "max_processes": self.max_processes >= 1,
            "file_size_mb": self.file_size_mb >= 1,
            "max_output": self.max_output >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"invalid limit {name}={getattr(self, name)!r}")

    @property
    def effective_cpu_time(self) -> float:
        return self.timeout if self.cpu_time is None else self.cpu_time

    @property
    def wall_backstop(self) -> float:
        return WALL_BACKSTOP * self.timeout if self.wall_time is None else self.wall_time


@dataclass(frozen=True)
class Job(_Record):
    """What a sandbox runs: a program and its tests in one test style."""

    id: str
    code: str
    tests: Any  # str for assert/humaneval/pytest; list of {"input", "output"} for stdio
    test_style: str = "assert"
    entry_point: str | None = None
    language: str = "python"
    # the language standard the program is compiled for, where the language has one (C++:
    # ``c++11``...``c++20``, ``gnu++``...); None: codesynth's (C++17). A benchmark's own
    # harness sets it (HumanEval-X: ``c++11``).
    standard: str | None = None

    def __post_init__(self) -> None:
        """A malformed job is the caller's error (ValueError), never a verdict on a program."""
        problem = job_problem(self.code, self.tests, self.test_style, self.entry_point,
                              self.language) or standard_problem(self.standard, self.language)
        if problem is not None:
            raise InvalidJob(self.id, *problem)


class InvalidJob(ValueError):
    """A job field is malformed; ``field`` and ``detail`` say which and how."""

    def __init__(self, job_id: str, field: str, detail: str) -> None:
        super().__init__(f"job {job_id!r}: {field} {detail}")
        self.field, self.detail = field, detail


# the standard (C++) or edition (Rust) a program is compiled for, per language
STANDARDS = {"cpp": tuple(f"{gnu}++{year}" for gnu in ("c", "gnu")
                          for year in ("11", "14", "17", "20")),
             "rust": ("2015", "2018", "2021")}


def standard_problem(standard: Any, language: Any) -> tuple[str, str] | None:
    if standard is None:
        return None
    if standard not in STANDARDS.get(language, ()):
        known = ", ".join(STANDARDS.get(language, ())) or f"none for {language!r}"
        return "standard", f"unknown standard {standard!r} (known: {known})"
    return None


def job_problem(code: Any, tests: Any, test_style: Any, entry_point: Any, language: Any
                ) -> tuple[str, str] | None:
    """``(field, message)`` for the first thing wrong with a job's fields, or None."""
    if not isinstance(code, str):
        return "code", f"must be a string, got {type(code).__name__}"
    if language not in LANGUAGES:
        return "language", f"unsupported language {language!r} (supported: " \
                           f"{', '.join(LANGUAGES)})"
    if test_style not in TEST_STYLES:
        return "test_style", f"unknown test style {test_style!r} (known: " \
                             f"{', '.join(TEST_STYLES)})"
    if language != "python" and test_style == "pytest":
        return "test_style", f"'pytest' is for Python programs (for {language}: 'assert', " \
                             "'humaneval', 'native' or 'stdio')"
    if language == "python" and test_style == "native":
        return "test_style", "'native' is a test block in another language (for Python: " \
                             "'assert', 'humaneval' or 'pytest')"
    if test_style == "stdio":
        if not isinstance(tests, list) or not tests:
            return "tests", "must be a non-empty list of {\"input\", \"output\"} for stdio"
        for index, case in enumerate(tests):
            if not isinstance(case, dict) or not isinstance(case.get("input"), str) \
                    or not isinstance(case.get("output"), str):
                return f"tests[{index}]", "must be an object with string 'input' and 'output'"
    elif not isinstance(tests, str) or not tests.strip():
        return "tests", f"must be a non-empty string for test_style {test_style!r}"
    if test_style == "humaneval" and (not isinstance(entry_point, str) or not entry_point):
        return "entry_point", "is required (a function name) for test_style 'humaneval'"
    if entry_point is not None and not isinstance(entry_point, str):
        return "entry_point", "must be a string"
    return None


@dataclass(frozen=True)
class TestOutcome(_Record):
    """One test's result: an assert statement, a pytest item, a stdio case, or ``check``."""

    __test__ = False  # not a pytest class

    name: str
    outcome: str  # passed | failed | error | skipped
    line: int | None = None
    source: str | None = None
    message: str | None = None
    duration: float | None = None


@dataclass(frozen=True)
class ExceptionInfo(_Record):
    type: str
    message: str  # str(exception), exactly as the program raised it
    traceback: str = ""
    line: int | None = None  # the last line in the tests (or the program) it passed through
    detail: str = ""  # what the harness adds, e.g. the operands of a failed assert


@dataclass(frozen=True)
class Execution(_Record):
    """The trace of one execution: the verdict and the evidence around it."""

    status: Status
    reason: str = ""
    tests: tuple[TestOutcome, ...] = ()
    exception: ExceptionInfo | None = None
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    exit_code: int | None = None
    signal: int | None = None
    duration: float = 0.0  # wall seconds
    cpu_time: float = 0.0  # seconds, the whole tree where measurable
    memory_peak_mb: float | None = None
    limits: Limits = field(default_factory=Limits)
    backend: str = ""
    isolation: str = ""
    runtime: str = ""
    suspicious: tuple[dict[str, str], ...] = ()  # {test, what}: reward hacks (README)
    limit: str | None = None  # the limit that ended the job: wall, cpu, backstop, memory, output
    # Optional additions (absent from the JSON when unset, so older readers see no change):
    test_strength: dict[str, Any] | None = None  # mutants, killed, equivalent, score, ...
    flaky: dict[str, Any] | None = None  # runs, statuses, tests whose outcome changed
    cache: str | None = None  # "hit" (the execution cache) or "duplicate" (same run)
    in_process_tests: bool | None = None  # the tests ran in the program's process (native)
    build: str | None = None  # "warm-javac": compiled by the worker's warm javac, not in the job

    OPTIONAL: ClassVar[tuple[str, ...]] = ("test_strength", "flaky", "cache",
                                           "in_process_tests", "build")

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        for name in self.OPTIONAL:
            if data[name] is None:
                del data[name]
        return {"passed": self.passed, **data}

    _DECODED = ("status", "tests", "exception", "limits", "suspicious")

    @classmethod
    def _decode(cls, name: str, value: Any) -> Any:
        if name == "status":
            return Status(value)
        if name == "tests":
            return tuple(TestOutcome.from_dict(t) for t in value)
        if name == "exception":
            return None if value is None else ExceptionInfo.from_dict(value)
        if name == "limits":
            return value if isinstance(value, Limits) else Limits.from_dict(value)
        if name == "suspicious":
            return tuple({k: str(i.get(k, "")) for k in ("test", "what")} for i in value)
        return value

    @classmethod
    def infrastructure_fault(cls, reason: str, limits: Limits, backend: str) -> Execution:
        return cls(status=Status.SANDBOX_ERROR, reason=reason, limits=limits, backend=backend)


@dataclass(frozen=True)
class Origin(_Record):
    """Provenance: how a record came to be."""

    method: str
    model: str | None = None
    template_hash: str | None = None
    parent_ids: tuple[str, ...] = ()
    round: int = 0
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    _DECODED = ("parent_ids",)

    @classmethod
    def _decode(cls, name: str, value: Any) -> Any:
        return tuple(value) if name == "parent_ids" else value


@dataclass(frozen=True)
class Task(_Record):
    """A programming task: an instruction and, when known, tests and a reference solution."""

    id: str
    instruction: str
    language: str = "python"
    tests: Any = None
    test_style: str = "assert"
    entry_point: str | None = None
    reference: str | None = None
    origin: Origin | None = None

    _DECODED = ("origin",)

    @classmethod
    def _decode(cls, name: str, value: Any) -> Any:
        if name == "origin" and value is not None:
            return Origin.from_dict(value)
        return value


@dataclass(frozen=True)
class Candidate(_Record):
    """A candidate program for a task, e.g. one LLM sample."""

    id: str
    task_id: str
    code: str
    model: str | None = None
    request_hash: str | None = None
    sample_index: int = 0
