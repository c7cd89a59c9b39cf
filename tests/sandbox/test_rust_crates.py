"""HumanEval-X's Rust programs import ``rand``, ``regex`` and ``md5`` (every problem's
declaration does; its harness builds them in a Cargo project depending on those crates).
The crates are built once per machine (``harness/drivers/crates``) and given to every Rust
compile, on both backends; ``eval humaneval-x`` agrees with HumanEval-X's own Cargo harness
on programs that use them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from codesynth.benchmarks.humaneval_x import HumanEvalX, humaneval_x_program
from codesynth.benchmarks.humaneval_x_plain import plain_passes
from codesynth.harness.drivers import crates
from codesynth.languages import RUST
from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import Run
from tests.sandbox.test_languages import language_box, needs
from tests.test_humaneval_x_agreement import mutants

FIXTURE = Path(__file__).parent.parent / "data" / "humaneval_x" / "humaneval_rust_crates.jsonl"
box = language_box(Limits(timeout=60.0, cpu_time=30.0, memory_mb=1024, max_processes=64))


def rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def problems() -> dict[str, object]:
    return HumanEvalX().parse(enumerate(rows(), 1), str(FIXTURE))


def native(task: int, generation: str | None = None) -> Job:
    problem = problems()[f"Rust/{task}"]
    row = problem.row  # type: ignore[attr-defined]
    code, test = humaneval_x_program(row, row["canonical_solution"] if generation is None
                                     else generation)
    return Job(id=f"r{task}", code=code, tests=test, test_style="native", language="rust")


def test_humaneval_x_rust_programs_have_their_crates(box: Sandbox) -> None:
    needs("rust")
    for task in (0, 1):  # md5::compute; regex::Regex and rand::Rng
        execution = box.run(native(task))
        assert execution.status is Status.PASSED, (task, execution.reason)
    wrong = box.run(native(0, '    format!("{:x}", md5::compute(text.as_bytes()))\n}\n'))
    assert wrong.status is Status.FAILED, wrong.reason  # the empty text's digest, not "None"


def test_a_crate_not_offered_is_a_compile_error(box: Sandbox) -> None:
    needs("rust")
    job = native(0)
    execution = box.run(Job(id="serde", code="use serde::Serialize;\n" + job.code,
                            tests=job.tests, test_style="native", language="rust"))
    assert execution.status is Status.ERROR
    assert "serde" in execution.reason


def test_stdio_and_equality_forms_have_them_too(box: Sandbox) -> None:
    needs("rust")
    program = ('use regex::Regex;\nfn main() { let r = Regex::new(r"[0-9]+").unwrap();\n'
               '  let mut s = String::new(); std::io::stdin().read_line(&mut s).unwrap();\n'
               '  println!("{}", r.find_iter(&s).count()); }\n')
    stdio = box.run(Job(id="s", code=program, tests=[{"input": "a1b22\n", "output": "2\n"}],
                        test_style="stdio", language="rust"))
    assert stdio.status is Status.PASSED, stdio.reason
    calls = box.run(Job(id="a", code='fn digest(t: String) -> String { format!("{:x}", '
                                     'md5::compute(t.as_bytes())) }\n',
                        tests='assert digest("abc") == "900150983cd24fb0d6963f7d28e17f72"\n',
                        test_style="assert", language="rust"))
    assert calls.status is Status.PASSED, calls.reason


def test_the_rust_commands_offer_the_crates_from_one_directory() -> None:
    needs("rust")
    assert crates.prepare() is not None
    flags = crates.flags()
    directory = flags[1].removeprefix("dependency=")
    assert flags[0] == "-L" and flags[1].startswith("dependency=")
    externs = dict(flag.split("=", 1) for flag in flags[3::2])
    assert flags[2::2] == ["--extern"] * 3 and set(externs) == {"md5", "rand", "regex"}
    assert all(Path(path).parent == Path(directory) and Path(path).is_file()
               for path in externs.values())
    command = RUST.command(RUST.compile or (), "fn main() {}")
    assert command[command.index("-L"):command.index("-L") + len(flags)] == flags
    assert "{crates}" not in command


def test_no_crates_where_none_were_built(tmp_path: Path) -> None:
    assert crates.flags(str(tmp_path)) == []
    assert crates.prepare(root=str(tmp_path), registry=str(tmp_path / "none")) is None
    assert not any(tmp_path.iterdir())


def test_eval_agrees_with_humaneval_x_cargo_harness(run: Run, tmp_path: Path) -> None:
    needs("rust")
    found = problems()
    samples = [{"task_id": row["task_id"], "generation": text} for row in rows()
               for text in [row["canonical_solution"], *mutants(str(row["canonical_solution"]))]]
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    out = tmp_path / "r.jsonl"
    code, _, err = run("eval", "humaneval-x", tmp_path / "s.jsonl", "--problems", FIXTURE,
                       "-o", out)
    assert code == 0, err
    ours = [json.loads(line)["passed"] for line in out.read_text().splitlines()]
    with tempfile.TemporaryDirectory() as warm:
        theirs = [plain_passes(found[s["task_id"]].row, s["generation"], warm)  # type: ignore
                  for s in samples]
    assert ours == theirs, [(s["generation"], m, o) for s, m, o
                            in zip(samples, ours, theirs, strict=True) if m != o]
    assert theirs[0] and theirs[len(mutants(str(rows()[0]["canonical_solution"]))) + 1]
    assert not all(theirs)
