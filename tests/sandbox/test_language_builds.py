"""Builds in other languages, attacked: the program shapes the compiler's output, so the
status of a failed build is decided from facts (the compiler's exit signal, the CPU its
processes used), never from phrases the program can print; correct programs in the forms
people write them (TypeScript modules and node types, Java classes named anything, nested,
in a package) pass; a runtime that starts per case (a JVM) is not charged against the
program's CPU budget for its many cases."""

from __future__ import annotations

import dataclasses

import pytest

from codesynth.java_source import main_class, public_class
from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.sandbox.test_languages import LIMITS, box, needs, stdio  # noqa: F401 - fixture

ADD = [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7\n", "output": "12\n"}]

FORGED_BUILD_FAILURES = {  # each fails to compile; its own text names a limit
    "cpp_fake_cpu": ("cpp", '#error "CPU time limit exceeded signal terminated program '
                            'cc1plus"\nint main(){}\n'),
    "cpp_fake_driver_line": ("cpp", '#line 1 "g++: fatal error: Killed signal terminated '
                                    'program cc1plus"\n#error "x"\nint main(){}\n'),
    "rust_fake_cpu": ("rust", 'compile_error!("x\\ng++: internal compiler error: CPU time '
                              'limit exceeded signal terminated program cc1plus");\n'
                              "fn main(){}\n"),
    "cpp_fake_starved": ("cpp", '#error "Cannot allocate memory"\nint main(){}\n'),
    "cpp_innocent": ("cpp", '#include <cstdio>\nint main(){\n  if (!buf) { puts("out of '
                            'memory"); return 1; }\n}\n'),
    "java_fake_kill": ("java", 'public class Main { public static void main(String[] a) {\n'
                               '  int x = "Killed signal terminated program"; } }\n'),
    "go_fake_threads": ("go", 'package main\nfunc main() { var x int = "failed to create new '
                              'OS thread" }\n'),
}


@pytest.mark.parametrize("name", sorted(FORGED_BUILD_FAILURES))
def test_a_program_cannot_choose_why_its_build_failed(box: Sandbox, name: str) -> None:  # noqa: F811
    language, program = FORGED_BUILD_FAILURES[name]
    needs(language)
    e = box.run(stdio(language, program, ADD))
    assert e.status is Status.ERROR, (e.status, e.reason)
    assert e.limit is None
    assert e.exception is not None and e.exception.type == "CompileError", e.reason
    assert e.reason.startswith("compile error"), e.reason


CORRECT_FORMS = {
    "ts_import_fs": ("typescript", "import * as fs from 'fs';\nconst v: number[] = fs."
                     "readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
                     "console.log(v[0] + v[1]);\n"),
    "ts_readline": ("typescript", "import * as readline from 'readline';\nconst rl = "
                    "readline.createInterface({ input: process.stdin });\nconst seen: "
                    "string[] = [];\nrl.on('line', (l: string) => seen.push(l));\nrl.on("
                    "'close', () => { const v = seen.join(' ').trim().split(/\\s+/).map("
                    "Number); console.log(v[0] + v[1]); });\n"),
    "ts_buffer_and_at": ("typescript", "let data = '';\nlet t: NodeJS.Timeout | null = null;"
                         "\nprocess.stdin.on('data', (c: Buffer) => { data += c.toString(); "
                         "});\nprocess.stdin.on('end', () => { const v = data.trim().split("
                         "/\\s+/).map(Number); console.log(v.at(0)! + v.at(-1)!); });\n"),
    "java_comment_names_a_class": ("java", "import java.util.*;\n// unlike public class Foo\n"
                                   "public class Main { public static void main(String[] x) "
                                   "{ Scanner in = new Scanner(System.in); System.out.println("
                                   "in.nextLong() + in.nextLong()); } }\n"),
    "java_nested_public_class": ("java", "import java.util.*;\nclass Main {\n  public class "
                                 "Pair { int a; }\n  public static void main(String[] x) { "
                                 "Scanner in = new Scanner(System.in); System.out.println("
                                 "in.nextLong() + in.nextLong()); }\n}\n"),
    "java_class_named_solution": ("java", "import java.util.*;\nclass Solution { public "
                                  "static void main(String[] x) { Scanner in = new Scanner("
                                  "System.in); System.out.println(in.nextLong() + "
                                  "in.nextLong()); } }\n"),
    "java_in_a_package": ("java", "package solution;\nimport java.util.*;\npublic class Main "
                          "{ public static void main(String[] x) { Scanner in = new Scanner("
                          "System.in); System.out.println(in.nextLong() + in.nextLong()); }"
                          " }\n"),
}


@pytest.mark.parametrize("name", sorted(CORRECT_FORMS))
def test_correct_programs_in_common_forms_pass(box: Sandbox, name: str) -> None:  # noqa: F811
    language, program = CORRECT_FORMS[name]
    needs(language)
    e = box.run(stdio(language, program, ADD))
    assert e.status is Status.PASSED, (e.reason, e.stderr[-500:])


def test_a_jvm_per_case_is_not_charged_to_the_program(box: Sandbox) -> None:  # noqa: F811
    """150 cases of a trivial Java program: 150 JVM starts (~0.05 s of CPU each) against a
    4 s CPU budget. The start-ups are the runtime's, not the program's: it passes."""
    needs("java")
    program = CORRECT_FORMS["java_comment_names_a_class"][1]
    cases = [{"input": f"{i} {i}\n", "output": f"{2 * i}\n"} for i in range(150)]
    limits = dataclasses.replace(LIMITS, timeout=60.0, cpu_time=4.0)
    e = box.run(stdio("java", program, cases), limits)
    assert e.status is Status.PASSED, e.reason


def test_a_slow_java_program_still_times_out(box: Sandbox) -> None:  # noqa: F811
    """The allowance is per case start, not a way out of the limit: a loop in the first case
    is still stopped by the CPU limit."""
    needs("java")
    program = ("public class Main { public static void main(String[] a) { long s = 0; "
               "while (true) { s++; } } }\n")
    limits = dataclasses.replace(LIMITS, timeout=30.0, cpu_time=3.0)
    e = box.run(stdio("java", program, ADD), limits)
    assert e.status is Status.TIMEOUT, e.reason
    assert e.cpu_time < 3.0 + 2 * 0.2 + 2.0


@pytest.mark.parametrize(("code", "public", "main"), [
    ("// public class Foo\npublic class Main { public static void main(String[] a) {} }",
     "Main", "Main"),
    ("class A { public class B {} static public void main(String... a) {} }", None, "A"),
    ("class H { void main(int x) {} }\npublic class App { public static void main(String[] a)"
     " {} }", "App", "App"),
    ('public class T { static String s = """\n class Q { public static void main(String[] '
     'a) {} }\n"""; public static void main(String[] a) {} }', "T", "T"),
    ('public class S { String s = "public class X {"; char c = \'{\'; /* } */ '
     "public static void main(String[] a) {} }", "S", "S"),
    ("package a.b;\nclass P { public static void main(String[] a) {} }", None, "a.b.P"),
    ("int x;", None, None),
])
def test_java_class_names_from_source(code: str, public: str | None, main: str | None) -> None:
    assert public_class(code) == public
    assert main_class(code) == main
