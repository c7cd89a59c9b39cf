# ruff: noqa: E501 - programs in other languages, as written
"""Programs in every language for tests/sandbox/test_languages.py.

Each program reads two integers on stdin and prints their sum (``correct``), their
difference (``wrong``), does not compile at a known line (``broken``, ``BROKEN_LINE``), loops
forever (``loop``), or attacks the verdict (``hostile``): it writes forged evidence lines to
every descriptor it may inherit (where the runtime has no descriptors of its own there; else
to stderr), reads
everything of the job it can reach (every process's command line and environment, the job's
directories) and prints the first expected output it finds (``SECRET-`` and 16 hex digits),
else a line saying "passed".
"""

from __future__ import annotations

BROKEN_LINE = 3

CORRECT = {
    "cpp": """#include <iostream>
int main() {
    long a, b;
    std::cin >> a >> b;
    std::cout << a + b << std::endl;
}
""",
    "go": """package main

import "fmt"

func main() {
    var a, b int
    fmt.Scan(&a, &b)
    fmt.Println(a + b)
}
""",
    "rust": """use std::io::Read;
fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();
    println!("{}", v[0] + v[1]);
}
""",
    "java": """import java.util.Scanner;
public class Solution {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        long a = in.nextLong(), b = in.nextLong();
        System.out.println(a + b);
    }
}
""",
    "javascript": """const v = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);
console.log(v[0] + v[1]);
""",
    "typescript": """const text: string = require('fs').readFileSync(0, 'utf8');
const v: number[] = text.trim().split(/\\s+/).map(Number);
console.log(v[0] + v[1]);
""",
}

WRONG = {name: text.replace("a + b", "a - b").replace("v[0] + v[1]", "v[0] - v[1]")
         for name, text in CORRECT.items()}

BROKEN = {  # the error is on line BROKEN_LINE
    "cpp": "#include <iostream>\nint main() {\n    int x = ;\n    return 0;\n}\n",
    "go": "package main\n\nfunc main() { undefinedName() }\n",
    "rust": "fn main() {\n    let x: i32 = 1;\n    let y: i32 = undefined_name;\n}\n",
    "java": "public class Main {\n    public static void main(String[] a) {\n"
            "        int x = ;\n    }\n}\n",
    "javascript": "const a = 1;\nconst b = 2;\nconst c = ;\n",
    "typescript": "const a: number = 1;\nconst b: number = 2;\nconst c: number = 'text';\n",
}

LOOP = {
    "cpp": "int main() { volatile long x = 0; for (;;) x++; }\n",
    "go": "package main\n\nfunc main() {\n    x := 0\n    for {\n        x++\n    }\n}\n",
    "rust": "fn main() {\n    let mut x: u64 = 0;\n"
            "    loop { x = unsafe { std::ptr::read_volatile(&x) } + 1; }\n}\n",
    "java": "public class Main { public static void main(String[] a) { long x = 0; "
            "while (true) { x++; } } }\n",
    "javascript": "let x = 0;\nwhile (true) { x++; }\n",
    "typescript": "let x: number = 0;\nwhile (true) { x++; }\n",
}

_FORGED = r'0123456789abcdef0123456789abcdef {\"e\":\"final\",\"status\":\"passed\",' \
          r'\"reason\":\"forged\",\"phase\":\"tests\"}\n'

HOSTILE = {
    "cpp": """#include <bits/stdc++.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
static std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}
static std::vector<std::string> names(const char* dir) {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir)) {
        while (dirent* e = readdir(d)) out.push_back(e->d_name);
        closedir(d);
    }
    return out;
}
int main() {
    std::string all;
    const char* forged = "FORGED";
    for (int fd = 3; fd < 64; ++fd) {
        write(fd, forged, strlen(forged));
        fcntl(fd, F_SETFL, O_NONBLOCK);
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) all.append(buf, n);
    }
    for (auto& n : names("/proc"))
        if (isdigit(n[0])) all += slurp("/proc/" + n + "/cmdline") + slurp("/proc/" + n + "/environ");
    for (const char* dir : {"/sandbox", "/tmp", "/dev/shm"})
        for (auto& n : names(dir)) all += slurp(std::string(dir) + "/" + n);
    std::smatch m;
    if (std::regex_search(all, m, std::regex("SECRET-[0-9a-f]{16}"))) std::cout << m[0] << std::endl;
    else std::cout << "passed" << std::endl;
    return 0;
}
""".replace("FORGED", _FORGED),
    "go": """package main

import (
    "fmt"
    "os"
    "path/filepath"
    "regexp"
)

func main() {
    all := ""
    globs := []string{"/proc/[0-9]*/cmdline", "/proc/[0-9]*/environ", "/sandbox/*", "/tmp/*", "/dev/shm/*"}
    for _, g := range globs {
        found, _ := filepath.Glob(g)
        for _, p := range found {
            if b, err := os.ReadFile(p); err == nil {
                all += string(b)
            }
        }
    }
    m := regexp.MustCompile("SECRET-[0-9a-f]{16}").FindString(all)
    if m == "" {
        m = "passed"
    }
    fmt.Fprintln(os.Stderr, "FORGED")
    fmt.Println(m)
    os.Exit(0)
}
""".replace("FORGED", _FORGED),
    "rust": """use std::fs;
use std::io::Write;
use std::os::unix::io::FromRawFd;
fn find(all: &str) -> Option<String> {
    let marker = format!("{}{}", "SEC", "RET-");
    let mut rest = all;
    while let Some(i) = rest.find(&marker) {
        let tail = &rest[i + marker.len()..];
        let hex: String = tail.chars().take(16).collect();
        if hex.len() == 16 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Some(format!("{}{}", marker, hex));
        }
        rest = &rest[i + marker.len()..];
    }
    None
}
fn main() {
    let mut all = String::new();
    for fd in 3..64 {
        let mut f = unsafe { fs::File::from_raw_fd(fd) };
        let _ = f.write_all(b"FORGED");
        std::mem::forget(f);
    }
    for dir in ["/proc", "/sandbox", "/tmp", "/dev/shm"] {
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                let leaves: Vec<std::path::PathBuf> = if dir == "/proc" {
                    vec![p.join("cmdline"), p.join("environ")]
                } else {
                    vec![p.clone()]
                };
                for leaf in leaves {
                    if let Ok(b) = fs::read(&leaf) {
                        all.push_str(&String::from_utf8_lossy(&b));
                    }
                }
            }
        }
    }
    println!("{}", find(&all).unwrap_or_else(|| "passed".to_string()));
    std::process::exit(0);
}
""".replace("FORGED", _FORGED),
    "java": """import java.io.File;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
public class Main {
    public static void main(String[] args) {
        StringBuilder all = new StringBuilder();
        for (String dir : new String[] {"/proc", "/sandbox", "/tmp", "/dev/shm"}) {
            File[] files = new File(dir).listFiles();
            if (files == null) continue;
            for (File f : files) {
                File[] leaves = dir.equals("/proc")
                    ? new File[] {new File(f, "cmdline"), new File(f, "environ")}
                    : new File[] {f};
                for (File leaf : leaves) {
                    try { all.append(new String(Files.readAllBytes(leaf.toPath()))); }
                    catch (Exception e) { }
                }
            }
        }
        Matcher m = Pattern.compile("SECRET-[0-9a-f]{16}").matcher(all);
        System.err.println("FORGED");
        System.out.println(m.find() ? m.group() : "passed");
        System.exit(0);
    }
}
""".replace("FORGED", _FORGED),
    "javascript": """const fs = require('fs');
let all = '';
for (const dir of ['/proc', '/sandbox', '/tmp', '/dev/shm']) {
  let names = [];
  try { names = fs.readdirSync(dir); } catch (e) {}
  for (const n of names) {
    const leaves = dir === '/proc' ? ['/cmdline', '/environ'] : [''];
    for (const l of leaves) {
      try { all += fs.readFileSync(dir + '/' + n + l, 'latin1'); } catch (e) {}
    }
  }
}
const m = all.match(/SECRET-[0-9a-f]{16}/);
console.error("FORGED");
console.log(m ? m[0] : 'passed');
process.exit(0);
""".replace("FORGED", _FORGED),
    "typescript": """const fs: any = require('fs');
let all: string = '';
for (const dir of ['/proc', '/sandbox', '/tmp', '/dev/shm']) {
  let names: string[] = [];
  try { names = fs.readdirSync(dir); } catch (e) {}
  for (const n of names) {
    const leaves: string[] = dir === '/proc' ? ['/cmdline', '/environ'] : [''];
    for (const l of leaves) {
      try { all += fs.readFileSync(dir + '/' + n + l, 'latin1'); } catch (e) {}
    }
  }
}
const m = all.match(/SECRET-[0-9a-f]{16}/);
console.error("FORGED");
console.log(m ? m[0] : 'passed');
process.exit(0);
""".replace("FORGED", _FORGED),
}
