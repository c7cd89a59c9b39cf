"""Known answers per language for the generator tests: a program that adds the two integers
on its input (correct), one that subtracts them (wrong output), one that does not compile,
and the fence tag a model might use for the language (aliases included)."""

from __future__ import annotations

CORRECT = {
    "python": "a, b = map(int, input().split())\nprint(a + b)\n",
    "javascript": "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/)"
                  ".map(Number);\nconsole.log(a + b);\n",
    "typescript": "const parts: number[] = require('fs').readFileSync(0, 'utf8').trim()"
                  ".split(/\\s+/).map(Number);\nconsole.log(parts[0] + parts[1]);\n",
    "cpp": "#include <iostream>\nint main() {\n    long long a, b;\n    std::cin >> a >> b;\n"
           "    std::cout << a + b << std::endl;\n    return 0;\n}\n",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tvar a, b int\n"
          "\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n",
    "rust": "use std::io::Read;\n\nfn main() {\n    let mut s = String::new();\n"
            "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
            "    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
            "    println!(\"{}\", v[0] + v[1]);\n}\n",
    "java": "import java.util.Scanner;\n\npublic class Main {\n"
            "    public static void main(String[] args) {\n"
            "        Scanner in = new Scanner(System.in);\n"
            "        long a = in.nextLong(), b = in.nextLong();\n"
            "        System.out.println(a + b);\n    }\n}\n",
}
WRONG = {language: code.replace("a + b", "a - b").replace("parts[0] + parts[1]",
                                                           "parts[0] - parts[1]")
                    .replace("v[0] + v[1]", "v[0] - v[1]")
         for language, code in CORRECT.items()}
BROKEN = {
    "python": "def (:\n",
    "javascript": "function (a, b {\n",
    "typescript": "const x: number = \"not a number\";\nconsole.log(x);\n",
    "cpp": "int main( {\n    return 0;\n}\n",
    "go": "package main\n\nfunc main( {\n}\n",
    "rust": "fn main( {\n}\n",
    "java": "public class Main {\n    public static void main(String[] args {\n    }\n}\n",
}
TAGS = {"python": "python", "javascript": "js", "typescript": "ts", "cpp": "c++",
        "go": "golang", "rust": "rust", "java": "java"}
CASES = [{"input": "2 3\n", "output": "5\n"}, {"input": "10 -4\n", "output": "6\n"}]


def fenced(language: str, code: str) -> str:
    return f"```{TAGS[language]}\n{code}```\n"


def cases_text(cases: list[dict[str, str]] = CASES) -> str:
    return "".join(f"Input:\n```\n{c['input']}```\nOutput:\n```\n{c['output']}```\n"
                   for c in cases)
