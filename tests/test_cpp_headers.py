"""C++ header sets (``codesynth/cpp_headers``): which programs get a precompiled set, that
the set says exactly what the program's own first lines say, that g++ really uses the
prepared PCH, and that the languages image makes the same files."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesynth.benchmarks.humaneval_x import CPP_HEADERS
from codesynth.harness.cpp_headers import (
    HUMANEVAL_X,
    PREPARED,
    header_text,
    leading_includes,
    set_header,
    with_pch,
)
from codesynth.languages import CPP_NATIVE_FLAGS, SANDBOX_PATH

HELPER = "\n".join(CPP_HEADERS) + "\n"
ARGV = ["g++", *CPP_NATIVE_FLAGS, "-fuse-ld=gold", "-o", "solution", "solution.cpp"]


def test_the_set_is_humaneval_x_import_helper() -> None:
    assert tuple(re.fullmatch(r"#include<(.+)>", line).group(1)  # type: ignore[union-attr]
                 for line in CPP_HEADERS) == HUMANEVAL_X
    assert ("humaneval-x", ("-std=c++17", "-O0")) in PREPARED and \
        CPP_NATIVE_FLAGS[:2] == ("-std=c++17", "-O0")


def test_leading_includes() -> None:
    source = HELPER + "/*\nA comment\n*/\n#include<stdio.h>\n  // x\n#include <vector>\n" \
        "using namespace std;\n#include<map>\n"
    assert leading_includes(source) == [*HUMANEVAL_X, "stdio.h", "vector"]
    assert leading_includes("#define X 1\n" + HELPER) == []
    assert leading_includes('#include "mine.h"\n' + HELPER) == []
    assert leading_includes("/* a */ int x;\n" + HELPER) == []
    assert leading_includes("// continued \\\n" + HELPER) == []
    assert leading_includes("#include <vector> /* x */\n#include <map>\n") == []
    # a comment opened on one line and closed on another ("/*" inside it is text)
    assert leading_includes("/*\n/* c */\n#include <set>\n") == ["set"]
    assert leading_includes("/*\n#include <set>\n") == []


@given(st.lists(st.sampled_from(["", "// c", "/* c */", "#include <set>", "int x;",
                                 "#define A", "#include<map>"]), max_size=8))
def test_leading_includes_never_skips_code(lines: list[str]) -> None:
    """Every header listed comes before any line that is not an include or a comment."""
    source = "\n".join(lines) + "\n"
    names = leading_includes(source)
    assert len(names) <= sum(line.startswith("#include") for line in lines)
    first_other = next((i for i, line in enumerate(lines)
                        if line not in ("", "// c", "/* c */") and not
                        line.startswith("#include")), len(lines))
    assert names == [re.search(r"<(.+)>", line).group(1)  # type: ignore[union-attr]
                     for line in lines[:first_other] if line.startswith("#include")][
        :len(names)]


def _prepared(root: Path) -> str:
    header = set_header("humaneval-x", ("-std=c++17", "-O0"), str(root))
    Path(header).parent.mkdir(parents=True)
    Path(header).write_text(header_text("humaneval-x"))
    Path(header + ".gch").write_bytes(b"x")
    return header


def test_with_pch_only_for_a_matching_prefix(tmp_path: Path) -> None:
    header = _prepared(tmp_path)
    program = HELPER + "#include<vector>\nint main() {}\n"
    assert with_pch(ARGV, program, str(tmp_path)) == ["g++", "-include", header, *ARGV[1:]]
    assert with_pch(ARGV, "#include<vector>\n" + HELPER, str(tmp_path)) == ARGV
    assert with_pch(ARGV, HELPER.replace("<math.h>", "<cmath>"), str(tmp_path)) == ARGV
    o2 = [part.replace("-O0", "-O2") for part in ARGV]  # no PCH made for these flags
    assert with_pch(o2, program, str(tmp_path)) == o2
    assert with_pch(["rustc", "x.rs"], program, str(tmp_path)) == ["rustc", "x.rs"]


def test_with_pch_refuses_a_header_that_says_something_else(tmp_path: Path) -> None:
    header = _prepared(tmp_path)
    Path(header).write_text(header_text("humaneval-x") + "#include <map>\n")
    assert with_pch(ARGV, HELPER, str(tmp_path)) == ARGV
    Path(header).write_text(header_text("humaneval-x"))
    Path(header + ".gch").unlink()
    assert with_pch(ARGV, HELPER, str(tmp_path)) == ARGV


def test_the_prepared_pch_is_valid_and_adds_no_names(tmp_path: Path) -> None:
    """g++ takes the machine's PCH (``-Winvalid-pch -H`` names it with ``!``), and a name
    from a header the program did not include stays unknown, as in the plain compile."""
    from codesynth.language_caches import prepare_cpp_sets

    if shutil.which("g++", path=SANDBOX_PATH) is None:
        pytest.skip("g++ is not installed")
    if prepare_cpp_sets() is None:
        pytest.skip("the PCH directory cannot be written here")
    program = HELPER + "using namespace std;\nint main() { vector<int> v{1}; return v[0] - 1; }\n"
    (tmp_path / "solution.cpp").write_text(program)
    argv = with_pch(ARGV, program)
    assert "-include" in argv
    done = subprocess.run([*argv, "-Winvalid-pch", "-H"], cwd=tmp_path, capture_output=True,
                          text=True, check=False, env={"PATH": SANDBOX_PATH})
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("! " + set_header("humaneval-x", ("-std=c++17", "-O0"))
                                  + ".gch"), done.stderr[:500]
    missing = HELPER + "int main() { std::map<int, int> m; return (int)m.size(); }\n"
    (tmp_path / "solution.cpp").write_text(missing)
    for command in (with_pch(ARGV, missing), ARGV):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                              check=False, env={"PATH": SANDBOX_PATH})
        assert done.returncode != 0 and "map" in done.stderr


def test_the_languages_image_makes_the_same_set() -> None:
    dockerfile = (Path(__file__).parent.parent / "sandboxes" / "languages" /
                  "Dockerfile").read_text()
    runs = dockerfile.split("\nRUN ")
    for set_name, flags in PREPARED:
        header = set_header(set_name, flags)
        directory, name = header.rsplit("/", 1)
        block = next(run for run in runs if run.startswith(f"d={directory} "))
        assert f"'{header_text(set_name)}' > $d/{name}".replace("\n", "\\n") in block
        assert f"g++ {' '.join(flags)} -pipe -x c++-header $d/{name} -o $d/{name}.gch" in block


def test_a_spliced_line_ends_the_leading_includes() -> None:
    # a backslash or C++11's trigraph ??/ at a line's end splices the next line onto it (into
    # a // comment); a splice inside a block comment can close it early: no set is taken
    for source in ("#include <stdlib.h> // \\\n#include <algorithm>\n",
                   "// ??/\n#include <algorithm>\n",
                   "/* a *\\\n/ int x;\n*/\n#include <algorithm>\n",
                   "#include <stdlib.h>\n#include <algorithm> ??/\n#include <vector>\n"):
        assert leading_includes(source) in ([], ["stdlib.h"]), source
