# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""Writes the hand-made HumanEval-X and MultiPL-E fixtures of this directory (run it after
editing). Two problems in each language: "close pair" (any two numbers closer than a
threshold) and "sum squares" (the sum of the squares of a list of ints). Each comes with
correct generations; the tests make the broken ones by editing them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

HERE = Path(__file__).parent

X = [  # HumanEval-X: task_id, prompt, canonical_solution, test, declaration, example_test
    {"task_id": "CPP/0",
     "prompt": "/*\nAre any two numbers of the vector closer to each other than threshold?\n*/\n"
               "#include<stdio.h>\n#include<vector>\n#include<math.h>\nusing namespace std;\n"
               "bool close_pair(vector<float> numbers, float threshold){\n",
     "canonical_solution": "    for (int i = 0; i < (int)numbers.size(); i++)\n"
                           "        for (int j = i + 1; j < (int)numbers.size(); j++)\n"
                           "            if (fabs(numbers[i] - numbers[j]) < threshold) return true;\n"
                           "    return false;\n}\n",
     "test": "#undef NDEBUG\n#include<assert.h>\nint main(){\n"
             "    assert (close_pair({1.0, 2.0, 3.9, 4.0}, 0.3) == true);\n"
             "    assert (close_pair({1.0, 2.0, 3.0}, 0.5) == false);\n}\n"},
    {"task_id": "CPP/1",
     "prompt": "/*\nThe sum of the squares of the numbers.\n*/\n#include<vector>\nusing namespace std;\n"
               "long long sum_squares(vector<int> xs){\n",
     "canonical_solution": "    long long s = 0;\n    for (int x : xs) s += (long long)x * x;\n"
                           "    return s;\n}\n",
     "test": "#undef NDEBUG\n#include<assert.h>\nint main(){\n    assert (sum_squares({1, 2, 3}) == 14);\n"
             "    assert (sum_squares({}) == 0);\n    assert (sum_squares({-4}) == 16);\n}\n"},
    {"task_id": "JavaScript/0",
     "prompt": "/* Are any two numbers closer to each other than threshold? */\n"
               "const closePair = (numbers, threshold) => {\n",
     "canonical_solution": "  for (let i = 0; i < numbers.length; i++)\n"
                           "    for (let j = i + 1; j < numbers.length; j++)\n"
                           "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
                           "  return false;\n}\n",
     "test": "const testClosePair = () => {\n"
             "  console.assert(closePair([1.0, 2.0, 3.9, 4.0], 0.3) === true)\n"
             "  const assert = require('assert');\n"
             "  assert.deepEqual(closePair([1.0, 2.0, 3.9, 4.0], 0.3), true);\n"
             "  assert.deepEqual(closePair([1.0, 2.0, 3.0], 0.5), false);\n}\n\ntestClosePair()\n"},
    {"task_id": "JavaScript/1",
     "prompt": "/* The sum of the squares of the numbers. */\nconst sumSquares = (xs) => {\n",
     "canonical_solution": "  return xs.reduce((s, x) => s + x * x, 0);\n}\n",
     "test": "const assert = require('assert');\nassert.deepEqual(sumSquares([1, 2, 3]), 14);\n"
             "assert.deepEqual(sumSquares([]), 0);\nassert.deepEqual(sumSquares([-4]), 16);\n"},
    {"task_id": "Java/0",
     "prompt": "import java.util.*;\nimport java.lang.*;\n\nclass Solution {\n"
               "    /** Are any two numbers closer to each other than threshold? */\n"
               "    public boolean closePair(List<Double> numbers, double threshold) {\n",
     "canonical_solution": "        for (int i = 0; i < numbers.size(); i++)\n"
                           "            for (int j = i + 1; j < numbers.size(); j++)\n"
                           "                if (Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
                           "        return false;\n    }\n}",
     "test": "public class Main {\n    public static void main(String[] args) {\n"
             "        Solution s = new Solution();\n        List<Boolean> correct = Arrays.asList(\n"
             "            s.closePair(new ArrayList<>(Arrays.asList(1.0, 2.0, 3.9, 4.0)), 0.3),\n"
             "            !s.closePair(new ArrayList<>(Arrays.asList(1.0, 2.0, 3.0)), 0.5)\n"
             "        );\n        if (correct.contains(false)) {\n"
             "            throw new AssertionError();\n        }\n    }\n}\n"},
    {"task_id": "Java/1",
     "prompt": "import java.util.*;\n\nclass Solution {\n    /** The sum of the squares. */\n"
               "    public long sumSquares(List<Integer> xs) {\n",
     "canonical_solution": "        long s = 0;\n        for (int x : xs) s += (long) x * x;\n"
                           "        return s;\n    }\n}",
     "test": "public class Main {\n    public static void main(String[] args) {\n"
             "        Solution s = new Solution();\n"
             "        if (s.sumSquares(Arrays.asList(1, 2, 3)) != 14) throw new AssertionError();\n"
             "        if (s.sumSquares(Arrays.asList()) != 0) throw new AssertionError();\n"
             "    }\n}\n"},
    {"task_id": "Go/0",
     "import": "import (\n    \"math\"\n)\n",
     "prompt": "import (\n    \"math\"\n)\n\n// Are any two numbers closer to each other than threshold?\n"
               "func ClosePair(numbers []float64, threshold float64) bool {\n",
     "canonical_solution": "    for i := 0; i < len(numbers); i++ {\n"
                           "        for j := i + 1; j < len(numbers); j++ {\n"
                           "            if math.Abs(numbers[i]-numbers[j]) < threshold {\n"
                           "                return true\n            }\n        }\n    }\n"
                           "    return false\n}\n",
     "test_setup": "package main\n\nimport (\n    \"testing\"\n"
                   "    \"github.com/stretchr/testify/assert\"\n)\n",
     "test": "func TestClosePair(t *testing.T) {\n    assert := assert.New(t)\n"
             "    assert.Equal(true, ClosePair([]float64{1.0, 2.0, 3.9, 4.0}, 0.3))\n"
             "    assert.Equal(false, ClosePair([]float64{1.0, 2.0, 3.0}, 0.5))\n}\n"},
    {"task_id": "Go/1",
     "import": "",
     "prompt": "// The sum of the squares of the numbers.\nfunc SumSquares(xs []int) int {\n",
     "canonical_solution": "    s := 0\n    for _, x := range xs {\n        s += x * x\n    }\n"
                           "    return s\n}\n",
     "test_setup": "package main\n\nimport (\n    \"testing\"\n"
                   "    \"github.com/stretchr/testify/assert\"\n)\n",
     "test": "func TestSumSquares(t *testing.T) {\n    assert := assert.New(t)\n"
             "    assert.Equal(14, SumSquares([]int{1, 2, 3}))\n    assert.Equal(0, SumSquares([]int{}))\n}\n"},
    {"task_id": "Rust/0",
     "declaration": "\nuse std::cmp::Ordering;\n",
     "prompt": "\n/// Are any two numbers closer to each other than threshold?\n"
               "fn close_pair(numbers: Vec<f32>, threshold: f32) -> bool {\n",
     "canonical_solution": "    for i in 0..numbers.len() {\n        for j in (i + 1)..numbers.len() {\n"
                           "            if (numbers[i] - numbers[j]).abs() < threshold { return true; }\n"
                           "        }\n    }\n    let _ = Ordering::Less;\n    false\n}\n",
     "test": "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n"
             "    fn test_close_pair() {\n"
             "        assert_eq!(close_pair(vec![1.0, 2.0, 3.9, 4.0], 0.3), true);\n"
             "        assert_eq!(close_pair(vec![1.0, 2.0, 3.0], 0.5), false);\n    }\n}\n"},
    {"task_id": "Rust/1",
     "declaration": "",
     "prompt": "\n/// The sum of the squares.\nfn sum_squares(xs: Vec<i64>) -> i64 {\n",
     "canonical_solution": "    xs.iter().map(|x| x * x).sum()\n}\n",
     "test": "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n"
             "    fn test_sum_squares() {\n        assert_eq!(sum_squares(vec![1, 2, 3]), 14);\n"
             "        assert_eq!(sum_squares(vec![]), 0);\n    }\n}\n"},
]

MULTIPLE = [  # MultiPL-E: name, language, prompt, tests, stop_tokens (+ a correct completion)
    {"name": "HumanEval_0_close_pair", "language": "cpp",
     "prompt": "#include<assert.h>\n#include<bits/stdc++.h>\n// Any two numbers closer than threshold?\n"
               "bool close_pair(std::vector<float> numbers, float threshold) {\n",
     "tests": "}\nint main() {\n    auto candidate = close_pair;\n"
              "    assert(candidate((std::vector<float>({(float)1.0f, (float)2.0f, (float)3.9f, (float)4.0f})), (0.3f)) == (true));\n"
              "    assert(candidate((std::vector<float>({(float)1.0f, (float)2.0f, (float)3.0f})), (0.5f)) == (false));\n}\n",
     "stop_tokens": ["\n}"],
     "_completion": "    for (size_t i = 0; i < numbers.size(); i++)\n"
                    "        for (size_t j = i + 1; j < numbers.size(); j++)\n"
                    "            if (std::fabs(numbers[i] - numbers[j]) < threshold) return true;\n"
                    "    return false;\n"},
    {"name": "HumanEval_0_close_pair", "language": "ts",
     "prompt": "//Any two numbers closer than threshold?\n"
               "function close_pair(numbers: number[], threshold: number): boolean {\n",
     "tests": "}\n\ndeclare var require: any;\nconst assert = require('node:assert');\n"
              "function test() {\n  let candidate = close_pair;\n"
              "  assert.deepEqual(candidate([1.0, 2.0, 3.9, 4.0], 0.3),true);\n"
              "  assert.deepEqual(candidate([1.0, 2.0, 3.0], 0.5),false);\n}\n\ntest();",
     "stop_tokens": ["\nfunction "],
     "_completion": "  for (let i = 0; i < numbers.length; i++)\n"
                    "    for (let j = i + 1; j < numbers.length; j++)\n"
                    "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
                    "  return false;\n"},
    {"name": "HumanEval_0_close_pair", "language": "rs",
     "prompt": "/// Any two numbers closer than threshold?\n"
               "fn close_pair(numbers: Vec<f64>, threshold: f64) -> bool {\n",
     "tests": "}\n\nfn main() {\n    let candidate = close_pair;\n"
              "    assert_eq!(candidate(vec![1.0, 2.0, 3.9, 4.0], 0.3), true);\n"
              "    assert_eq!(candidate(vec![1.0, 2.0, 3.0], 0.5), false);\n}\n",
     "stop_tokens": ["\n}"],
     "_completion": "    for i in 0..numbers.len() {\n        for j in (i + 1)..numbers.len() {\n"
                    "            if (numbers[i] - numbers[j]).abs() < threshold { return true; }\n"
                    "        }\n    }\n    false\n"},
    {"name": "HumanEval_0_close_pair", "language": "java",
     "prompt": "import java.util.*;\n\nclass Problem {\n    // Any two numbers closer than threshold?\n"
               "    public static boolean closePair(ArrayList<Float> numbers, float threshold) {\n",
     "tests": "    }\n    public static void main(String[] args) {\n"
              "    assert(closePair((new ArrayList<Float>(Arrays.asList((float)1.0f, (float)2.0f, (float)3.9f, (float)4.0f))), (0.3f)) == (true));\n"
              "    assert(closePair((new ArrayList<Float>(Arrays.asList((float)1.0f, (float)2.0f, (float)3.0f))), (0.5f)) == (false));\n"
              "    }\n\n}\n",
     "stop_tokens": ["\n    }\n"],
     "_completion": "        for (int i = 0; i < numbers.size(); i++)\n"
                    "            for (int j = i + 1; j < numbers.size(); j++)\n"
                    "                if (Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
                    "        return false;\n"},
    {"name": "HumanEval_0_close_pair", "language": "go_test.go",
     "prompt": "package close_pair_test\n\nimport (\n    \"testing\"\n    \"fmt\"\n    \"math\"\n)\n\n"
               "// Any two numbers closer than threshold?\n"
               "func close_pair(numbers []float64, threshold float64) bool {\n",
     "tests": "}\n\nfunc TestClose_Pair(t *testing.T) {\n  candidate := close_pair\n"
              "  type test struct {\n    actual   interface{}\n    expected interface{}\n  }\n"
              "   tests := []test{\n     { actual: candidate([]float64{1.0, 2.0, 3.9, 4.0}, 0.3), expected: true },\n"
              "     { actual: candidate([]float64{1.0, 2.0, 3.0}, 0.5), expected: false },\n   }\n\n"
              "  for i, tc := range tests {\n    t.Run(fmt.Sprintf(\"test num % d\", i), func(t *testing.T) {\n"
              "      if fmt.Sprintf(\"%v\", tc.actual) != fmt.Sprintf(\"%v\", tc.expected) {\n"
              "        t.Errorf(\"expected '%s', got '%s'\", tc.expected, tc.actual)\n      }\n    })\n  }\n}\n",
     "stop_tokens": ["\nfunc"],
     "_completion": "    for i := 0; i < len(numbers); i++ {\n        for j := i + 1; j < len(numbers); j++ {\n"
                    "            if math.Abs(numbers[i]-numbers[j]) < threshold {\n"
                    "                return true\n            }\n        }\n    }\n    return false\n"},
    {"name": "HumanEval_0_close_pair", "language": "js",
     "prompt": "//Any two numbers closer than threshold?\nfunction close_pair(numbers, threshold){\n",
     "tests": "}\n\nconst assert = require('node:assert');\n\n\nfunction test() {\n"
              "  let candidate = close_pair;\n"
              "  assert.deepEqual(candidate([1.0, 2.0, 3.9, 4.0], 0.3),true);\n"
              "  assert.deepEqual(candidate([1.0, 2.0, 3.0], 0.5),false);\n}\n\ntest();",
     "stop_tokens": ["\nfunction "],
     "_completion": "  for (let i = 0; i < numbers.length; i++)\n"
                    "    for (let j = i + 1; j < numbers.length; j++)\n"
                    "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
                    "  return false;\n"},
]


def main() -> None:
    with gzip.open(HERE / "humaneval_x.jsonl.gz", "wt") as handle:
        for row in X:
            handle.write(json.dumps({"declaration": "", "example_test": "", **row}) + "\n")
    for row in MULTIPLE:  # one file per language, as MultiPL-E ships them
        with (HERE / f"multipl_e_{row['language']}.jsonl").open("w") as handle:
            handle.write(json.dumps({k: v for k, v in row.items() if not k.startswith("_")})
                         + "\n")
        with (HERE / f"multipl_e_{row['language']}_samples.jsonl").open("w") as handle:
            handle.write(json.dumps({"task_id": row["name"], "completion": row["_completion"]})
                         + "\n")


if __name__ == "__main__":
    main()
