# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""Test blocks in the program's own language (HumanEval-X's ``test``), run in the program's
process as the official harnesses build them, with completion evidence.

The program is the job's code followed by its test block. What runs it is wrapped so that,
only after the whole block returned normally, it reads a per-job nonce on stdin and writes
``DONE\\t<nonce>\\t<failures>`` to fd 3 (per-test lines ``TEST\\t<name>\\t<ok|fail>\\t<msg>``
before it, where the language runs tests one by one). An early ``exit(0)``,
``os.Exit(0)``, ``process.exit(0)`` or ``System.exit(0)`` never gets there, and printed
text is not evidence. The tests share the program's process: a program that reads its own
stdin or memory could forge the line, so such traces say ``in_process_tests``.

- cpp: the block's ``main`` is renamed to a per-job random name (``#undef`` of that name
  just before it); a wrapper ``main`` in its own translation unit calls it, so no macro of
  the program touches the wrapper or the call (a macro on ``assert`` or on what the block
  itself uses still can: the in-process class). -O0, as the official harnesses; leading
  standard headers precompiled: ``cpp_headers``.
- java: ``CodesynthNative`` calls the ``main`` the TEST BLOCK declares (``java_source.
  block_main_class``: never a class the program chooses; unicode escapes read as javac
  reads them), ``-ea``: ``assert`` checks.
- javascript/typescript: the line is written by a module loaded before the program
  (``node --require``) at the process's exit, when the block ran to its end, the event
  loop drained, every promise made since the block started settled, nothing was uncaught or
  unhandled, no ``console.assert`` failed, and node's exit code (before the program's
  'exit' listeners) is 0.
- go: the block is a ``_test.go`` file, built with ``go test -c``; ``TestMain`` sets the
  test flags itself, runs the block's ``Test`` functions (names read from the block) as
  subtests of a wrapper with a per-job random name, and writes each one's recorded outcome
  and the line after ``m.Run()`` (``-test.paniconexit0`` too): a test of the block that did
  not run is a failure; testify from Debian's GOPATH.
- rust: ``#[test]`` functions become plain functions (``--cfg test`` keeps their module)
  and a generated ``main`` runs each under ``catch_unwind``, as libtest would
  (``#[should_panic]`` passes only by panicking, with ``expected``'s text when given;
  ``#[ignore]`` is skipped); debug build
  (``cargo test``'s profile: overflow checks on, and cheaper to compile).
"""

from __future__ import annotations

import re
import secrets

from codesynth.harness.drivers import Form, Unrenderable, prebuilt
from codesynth.languages import (
    _JVM_FLAGS,
    CPP_NATIVE_COMPILE,
    GO_TEST_CACHE,
    GO_TEST_GOPATH,
    JAVA_CLASS_PATH,
    JAVAC_FLAGS,
    RUST_NATIVE_COMPILE,
)

GOPATH = f"/tmp/go:{GO_TEST_GOPATH}"  # Debian's Go libraries (testify) live in the second
RUST_TEST_FLAGS = list(RUST_NATIVE_COMPILE)

_JAVA_WRAPPER = r"""import java.io.*;
import java.lang.reflect.*;

public class CodesynthNative {
    public static void main(String[] argv) throws Exception {
        Method main = Class.forName(argv[0]).getMethod("main", String[].class);
        int failures = 0;
        String message = "";
        try {
            main.invoke(null, (Object) new String[0]);
        } catch (InvocationTargetException e) {
            failures = 1;
            Throwable cause = e.getCause() == null ? e : e.getCause();
            message = cause.toString().replace('\t', ' ').replace('\n', ' ');
            cause.printStackTrace();
        }
        String nonce = new BufferedReader(new InputStreamReader(System.in)).readLine();
        try (FileOutputStream out = new FileOutputStream("/proc/self/fd/3", true)) {
            out.write(("TEST\tmain\t" + (failures == 0 ? "ok" : "fail") + "\t" + message + "\n").getBytes());
            if (failures == 0 && nonce != null) out.write(("DONE\t" + nonce.trim() + "\t0\n").getBytes());
        }
        if (failures != 0) System.exit(1);
    }
}
"""



def _java_assertions(tests: str) -> list[str]:
    """``-ea`` when the block itself uses ``assert`` statements (MultiPL-E's, whose harness
    runs ``java -ea``); HumanEval-X's blocks throw ``AssertionError`` themselves and its
    harness runs without ``-ea``, so an ``assert`` in a program is not checked there."""
    return ["-ea"] if re.search(r"\bassert\b", tests) else []


def native_form(language: str, code: str, tests: str, main_class: str = "Main") -> Form:
    if language == "cpp":
        return _cpp(code + "\n" + tests)
    if language == "java":
        from codesynth.java_source import block_main_class

        entry = block_main_class(code, tests)
        if entry is None:
            raise Unrenderable("the Java test block declares no `static void main` of a "
                               "named class")
        return Form(source=code + "\n" + tests, files={"CodesynthNative.java": _JAVA_WRAPPER},
                    compile=["javac", *JAVAC_FLAGS, "-nowarn", "-cp", JAVA_CLASS_PATH, "-d",
                             ".", "{source}", "CodesynthNative.java"],
                    run=["java", *_JVM_FLAGS, *_java_assertions(tests), "-cp", JAVA_CLASS_PATH,
                         "CodesynthNative",
                         entry.replace("{", "{{").replace("}", "}}")])
    if language in ("javascript", "typescript"):
        from codesynth.harness.drivers.native_js import (
            JS_END,
            JS_PRELOAD,
            JS_PRELOAD_FILE,
            JS_START,
        )

        script = "{source}" if language == "javascript" else "solution.js"
        return Form(source=code + "\n" + JS_START + tests + JS_END,
                    files={JS_PRELOAD_FILE: JS_PRELOAD},
                    run=["node", "--require", f"./{JS_PRELOAD_FILE}", script])
    if language == "go":
        from codesynth.harness.drivers.go import as_main_package
        from codesynth.harness.drivers.native_go import go_main

        source = as_main_package(code + "\n" + tests)
        return Form(source="", files={"solution_test.go": source,
                                      "codesynth_main_test.go": go_main(tests)},
                    compile=["sh", "-c", f"cp -R {GO_TEST_CACHE}/. /tmp/go-cache/ "
                             "2>/dev/null; exec go test -c -o solution.test ."],
                    run=["./solution.test", "-test.v", "-test.paniconexit0"],
                    env={"GOPATH": GOPATH})
    if language == "rust":
        return _rust(code, tests)
    raise Unrenderable(f"no in-language test block form for {language}")


def _cpp(text: str) -> Form:
    name = f"codesynth_main_{secrets.token_hex(12)}"
    renamed, count = re.subn(r"\bint\s+main\s*\(", f'\n#undef {name}\nextern "C" int {name}(',
                             text)
    if count != 1:
        raise Unrenderable("the C++ test block must define one `int main(`")
    # ``main`` returns 0 when it falls off its end; a renamed one must say so itself.
    end = _body_end(renamed, renamed.index(f"int {name}("))
    if end is None:
        raise Unrenderable("the C++ test block's main has no body")
    renamed = renamed[:end] + "return 0;" + renamed[end:]
    # The wrapper (``prebuilt``) is its own translation unit, compiled once per machine where
    # it could be: no macro of the program reaches it; it calls ``NAME`` through the linker.
    # As the official harnesses compile the program (-O0, nothing added before it): its
    # leading standard headers come precompiled where a prepared set matches (cpp_headers).
    link = f"-Wl,--defsym=codesynth_entry={name}"
    if re.search(r"^[ \t]*#[ \t]*include[ \t]*[<\"]openssl/", text, re.MULTILINE):
        link += " -lcrypto -lssl"  # as HumanEval-X's harness links its task 162 (MD5)
    wrapper = prebuilt.available(prebuilt.cpp_wrapper_path())
    if wrapper is not None:
        return Form(source=renamed, compile=[*CPP_NATIVE_COMPILE, wrapper, *link.split()])
    return Form(source=renamed, files={"codesynth_wrapper.cpp": prebuilt.CPP_WRAPPER},
                compile=[*CPP_NATIVE_COMPILE, "codesynth_wrapper.cpp", *link.split()])


def _body_end(text: str, start: int) -> int | None:
    """The index of the ``}`` closing the function body that starts after ``start``
    (strings, characters and comments skipped)."""
    opening = text.find("{", text.find(")", start))
    if opening < 0:
        return None
    depth, index = 0, opening
    while index < len(text):
        char = text[index]
        if text.startswith("//", index):
            index = text.find("\n", index)
            index = len(text) if index < 0 else index
            continue
        if text.startswith("/*", index):
            close = text.find("*/", index + 2)
            index = len(text) if close < 0 else close + 2
            continue
        if char in "\"'":
            index += 1
            while index < len(text) and text[index] != char:
                index += 2 if text[index] == "\\" else 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


_ATTRIBUTE = r'#\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\]'
_TEST_HEAD = re.compile(rf"((?:{_ATTRIBUTE}\s*)+)(?:pub\s+)?fn\s+(\w+)")
_SHOULD_PANIC = re.compile(r'#\[\s*should_panic\s*(?:\(\s*expected\s*=\s*("(?:[^"\\]|\\.)*")'
                           r"\s*\)\s*)?\]")


def _rust_tests(tests: str) -> tuple[str, list[tuple[str, int, str | None]]]:
    """The block with its ``#[test]`` functions made plain ``pub fn``s, and per test: its
    name, 0 (plain), 1 (``#[should_panic]``: passes only by panicking, with ``expected``'s
    text in the message when given, as libtest) or 2 (``#[ignore]``: not run), and the
    expected text as a Rust string literal."""
    found: list[tuple[str, int, str | None]] = []

    def one(match: re.Match[str]) -> str:
        attributes = re.findall(_ATTRIBUTE, match.group(1))
        if not any(re.fullmatch(r"#\[\s*test\s*\]", a) for a in attributes):
            return match.group(0)
        kind, expected, kept = 0, None, []
        for attribute in attributes:
            if re.fullmatch(r"#\[\s*test\s*\]", attribute):
                continue
            if re.match(r"#\[\s*should_panic\b", attribute):
                panic = _SHOULD_PANIC.fullmatch(attribute)
                if panic is None:
                    raise Unrenderable(f"an unsupported Rust test attribute: {attribute[:200]}")
                kind, expected = max(kind, 1), panic.group(1)
            elif re.match(r"#\[\s*ignore\b", attribute):
                kind = 2
            else:
                kept.append(attribute)
        found.append((match.group(2), kind, expected))
        return "".join(a + "\n" for a in kept) + f"pub fn {match.group(2)}"

    return _TEST_HEAD.sub(one, tests), found


def _rust(code: str, tests: str) -> Form:
    from codesynth.harness.drivers.rust import rename_main

    module = re.search(r"\bmod\s+(\w+)\s*\{", tests)
    block, found = _rust_tests(tests)
    prefix = f"{module.group(1)}::" if module and found else ""
    if not found:  # MultiPL-E: the block is a ``main`` with asserts
        block, count = re.subn(r"\bfn\s+main\s*\(", "fn codesynth_block_main(", tests)
        if count != 1:
            raise Unrenderable("the Rust test block has no #[test] function and no main")
        found, prefix = [("codesynth_block_main", 0, None)], ""
    entries = ", ".join(f'("{prefix}{name}", {prefix}{name} as fn(), {kind}, '
                        f'{"Some(" + expected + ")" if expected else "None"})'
                        for name, kind, expected in found)
    runtime = prebuilt.available(prebuilt.rust_runtime_path())
    if runtime is not None:  # the harness compiled once per machine (see ``prebuilt``)
        crate = f"codesynth_rt_{secrets.token_hex(12)}"
        # (a path without ``::``: Rust 2015, MultiPL-E's edition, reads ``::x`` as the
        # crate's own root; no item of the program can have the crate's random name)
        main = f"fn main() {{ {crate}::run(&[{entries}]); }}\n"
        return Form(source=rename_main(code) + "\n" + block + "\n" + main,
                    compile=[*RUST_TEST_FLAGS, "--extern", f"{crate}={runtime}"])
    inline = f"codesynth_runtime_{secrets.token_hex(12)}"
    main = (f"mod {inline} {{{prebuilt.RUST_RUNTIME}}}\n"
            f"fn main() {{ {inline}::run(&[{entries}]); }}\n")
    return Form(source=rename_main(code) + "\n" + block + "\n" + main,
                compile=list(RUST_TEST_FLAGS))
