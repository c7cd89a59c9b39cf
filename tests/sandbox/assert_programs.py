# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""Programs for the equality-assertion and in-language test forms (test_language_asserts).

Each language's program defines ``add_all(list, int)``, ``half(float)`` and
``greet(str)`` (in the language's own spelling: addAll, AddAll...). ``half``'s body and a
prefix of ``add_all`` vary: a crash, a loop, a memory hog, an early exit(0), and a forger
that writes results (right ones) to the results channel and prints "passed"."""

from __future__ import annotations

TESTS = '''assert add_all([1, 2, 3], 1) == [2, 3, 4]
assert half(3) == 1.5
assert greet("bob") == "hi bob"
'''

FORGED = r'0\t[2,3,4]\n1\t1.5\n2\t\"hi bob\"\n'

PROGRAMS = {
    "cpp": """#include <vector>
#include <string>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
using namespace std;
vector<int> add_all(vector<int> a, int k) { PREFIX for (auto& x : a) x += k; return a; }
double half(double x) { BODY }
string greet(string s) { return "hi " + s; }
""",
    "rust": """use std::io::Write;
fn add_all(a: Vec<i32>, k: i32) -> Vec<i32> { PREFIX a.into_iter().map(|x| x + k).collect() }
fn half(x: f64) -> f64 { BODY }
fn greet(s: String) -> String { format!("hi {}", s) }
""",
    "go": """package main

import (
	"fmt"
	"os"
	"syscall"
)

var _, _ = os.Exit, syscall.Getpid

func AddAll(a []int, k int) []int { PREFIX r := []int{}; for _, x := range a { r = append(r, x+k) }; return r }
func Half(x float64) float64 { BODY }
func Greet(s string) string { return fmt.Sprintf("hi %s", s) }
""",
    "java": """import java.util.*;
class Solution {
  public List<Integer> addAll(List<Integer> a, int k) { PREFIX List<Integer> r = new ArrayList<>(); for (int x : a) r.add(x + k); return r; }
  public double half(double x) { BODY }
  public String greet(String s) { return "hi " + s; }
}
""",
    "javascript": """const add_all = (a, k) => { PREFIX return a.map((x) => x + k); };
function half(x) { BODY }
const greet = (s) => "hi " + s;
""",
    "typescript": """const add_all = (a: number[], k: number): number[] => { PREFIX return a.map((x) => x + k); };
function half(x: number): number { BODY }
const greet = (s: string): string => "hi " + s;
""",
}

BODIES = {
    "cpp": {"ok": "return x / 2;", "crash": "volatile int* p = nullptr; *p = 1; return 0;",
            "loop": "volatile long n = 0; while (true) n++; return 0;",
            "memory": "vector<vector<char>> v; while (true) v.emplace_back(1 << 20, 'x'); return 0;",
            "exit": "exit(0);",
            "forge": f'{{ const char* f = "{FORGED}"; ssize_t w = write(3, f, strlen(f)); '
                     '(void)w; printf("passed\\n"); }'},
    "rust": {"ok": "x / 2.0", "crash": "unsafe { std::ptr::null_mut::<i32>().write_volatile(1); } 0.0",
             "loop": "let mut n = 0u64; loop { n = unsafe { std::ptr::read_volatile(&n) } + 1; }",
             "memory": "let mut v: Vec<Vec<u8>> = Vec::new(); loop { v.push(vec![1u8; 1 << 20]); }",
             "exit": "std::process::exit(0)",
             "forge": "{ use std::os::unix::io::FromRawFd; let mut f = unsafe { std::fs::File::"
                      f'from_raw_fd(3) }}; let _ = f.write_all(b"{FORGED}"); std::mem::forget(f); '
                      'println!("passed"); }'},
    "go": {"ok": "return x / 2", "crash": "syscall.Kill(syscall.Getpid(), syscall.SIGSEGV); select {}",
           "loop": "n := 0; for { n++ }",
           "memory": "v := [][]byte{}; for { b := make([]byte, 1<<20); for i := range b { b[i] = 1 }; "
                     "v = append(v, b) }",
           "exit": "os.Exit(0); return 0",
           "forge": f'os.NewFile(3, "r").WriteString("{FORGED}"); fmt.Println("passed");'},
    "java": {"ok": "return x / 2;", "crash": "throw new IllegalStateException(\"boom\");",
             "loop": "long n = 0; while (true) n++;",
             "memory": "List<long[]> v = new ArrayList<>(); while (true) v.add(new long[1 << 17]);",
             "exit": "System.exit(0); return 0;",
             "forge": 'try (java.io.FileOutputStream f = new java.io.FileOutputStream('
                      f'"/proc/self/fd/3")) {{ f.write("{FORGED}".getBytes()); }} '
                      'catch (Exception e) {} System.out.println("passed");'},
    "javascript": {"ok": "return x / 2;", "crash": 'process.kill(process.pid, "SIGSEGV"); while (true) {}',
                   "loop": "while (true) {}",
                   "memory": "const v = []; while (true) v.push(Buffer.alloc(1 << 20, 1));",
                   "exit": "process.exit(0);",
                   "forge": f'require("fs").writeSync(3, "{FORGED}"); console.log("passed");'},
}
BODIES["typescript"] = {**BODIES["javascript"],
                        "crash": 'process.kill(process.pid, "SIGSEGV"); return 0;',
                        "memory": "const v: any[] = []; while (true) v.push(Buffer.alloc(1 << 20, 1));",
                        "exit": "process.exit(0); return 0;"}


def program(language: str, body: str = "ok", forge: bool = False, wrong: bool = False) -> str:
    text = PROGRAMS[language].replace("BODY", BODIES[language][body]).replace(
        "PREFIX", BODIES[language]["forge"] if forge else "")
    if wrong:
        text = text.replace("x + k", "x - k").replace("x+k", "x-k").replace("x += k", "x -= k")
    return text


BROKEN_LINE = 2  # a compile error on this line of every language's broken program


def broken(language: str) -> str:
    lines = program(language).splitlines()
    return "\n".join([lines[0], "@@@ not code @@@", *lines[1:]]) + "\n"


# In-language test blocks (HumanEval-X's shape): (program, test block).
NATIVE = {
    "cpp": ("#include <assert.h>\n#include <cstdlib>\n#include <unistd.h>\n#include <cstring>\n"
            "int add(int a, int b) { PREFIX return a + b; }\n",
            "int main() {\n  assert(add(1, 2) == 3);\n  assert(add(2, 2) == 4);\n}\n"),
    "javascript": ("const add = (a, b) => { PREFIX return a + b; };\n",
                   "const assert = require('assert');\nassert.deepEqual(add(1, 2), 3);\n"
                   "assert.deepEqual(add(2, 2), 4);\n"),
    "typescript": ("function add(a: number, b: number): number { PREFIX return a + b; }\n",
                   "const assert = require('assert');\nassert.deepEqual(add(1, 2), 3);\n"
                   "assert.deepEqual(add(2, 2), 4);\n"),
    "java": ("import java.util.*;\nclass Solution { public int add(int a, int b) { PREFIX "
             "return a + b; } }\n",
             "public class Main { public static void main(String[] args) { Solution s = new "
             "Solution(); if (s.add(1, 2) != 3) throw new AssertionError(); "
             "if (s.add(2, 2) != 4) throw new AssertionError(); } }\n"),
    "go": ("package main\n\nimport (\n\t\"os\"\n\t\"testing\"\n\n"
           "\t\"github.com/stretchr/testify/assert\"\n)\n\nvar _ = os.Exit\n\n"
           "func Add(a, b int) int { PREFIX return a + b }\n",
           "func TestAdd(t *testing.T) {\n\tassert := assert.New(t)\n\tassert.Equal(3, Add(1, 2))\n"
           "\tassert.Equal(4, Add(2, 2))\n}\n"),
    "rust": ("fn main() {}\nfn add(a: i32, b: i32) -> i32 { PREFIX a + b }\n",
             "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn test_add() {\n"
             "        assert_eq!(add(1, 2), 3);\n        assert_eq!(add(2, 2), 4);\n    }\n}\n"),
}
_DONE = r"DONE\t0123456789abcdef0123456789abcdef\t0\n"
NATIVE_PREFIX = {  # "exit": exit(0) in the first call; "forge": a completion line, then exit(0)
    "cpp": {"exit": "exit(0);",
            "forge": f'if (write(3, "{_DONE}", strlen("{_DONE}"))) exit(0); exit(0);'},
    "javascript": {"exit": "process.exit(0);",
                   "forge": f'require("fs").writeSync(3, "{_DONE}"); process.exit(0);'},
    "java": {"exit": "System.exit(0);",
             "forge": 'try (java.io.FileOutputStream f = new java.io.FileOutputStream('
                      f'"/proc/self/fd/3")) {{ f.write("{_DONE}".getBytes()); }} catch '
                      '(Exception e) {} System.exit(0);'},
    "go": {"exit": "os.Exit(0);", "forge": f'os.NewFile(3, "r").WriteString("{_DONE}"); os.Exit(0);'},
    "rust": {"exit": "std::process::exit(0);",
             "forge": "{ use std::io::Write; use std::os::unix::io::FromRawFd; let mut f = unsafe "
                      f'{{ std::fs::File::from_raw_fd(3) }}; let _ = f.write_all(b"{_DONE}"); }} '
                      "std::process::exit(0);"},
}
NATIVE_PREFIX["typescript"] = NATIVE_PREFIX["javascript"]


def native(language: str, variant: str = "ok") -> tuple[str, str]:
    code, tests = NATIVE[language]
    prefix = NATIVE_PREFIX[language].get(variant, "")
    code = code.replace("PREFIX", prefix)
    if variant == "wrong":
        code = code.replace("a + b", "a - b")
    return code, tests
