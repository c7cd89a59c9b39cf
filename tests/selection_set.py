"""A set of tasks with deliberately weak model-written tests (one or two asserts) and mixed
candidates: correct solutions written in different ways, and wrong ones that still pass the
weak tests (the mistakes a model makes: a missed edge case, case sensitivity, an order of
checks). ``correct`` is the ground truth, known by construction; selection never sees it.
The candidates of each task are shuffled with a seeded RNG, as samples arrive in any order.
"""

from __future__ import annotations

import random
from typing import Any

# name -> (weak tests, correct candidates, wrong candidates that pass the weak tests)
TASKS: dict[str, tuple[str, list[str], list[str]]] = {
    "clamp": (
        "assert clamp(5, 0, 10) == 5\n",
        ["def clamp(x, lo, hi):\n    return min(max(x, lo), hi)\n",
         "def clamp(x, lo, hi):\n    if x < lo:\n        x = lo\n    if x > hi:\n        x = hi\n"
         "    return x\n",
         "def clamp(x, lo, hi):\n    return hi if max(x, lo) > hi else max(x, lo)\n"],
        ["def clamp(x, lo, hi):\n    return x\n",
         "def clamp(x, lo, hi):\n    return max(x, lo)\n"]),
    "is_prime": (
        "assert is_prime(7)\nassert not is_prime(8)\n",
        ["def is_prime(n):\n    if n < 2:\n        return False\n"
         "    return all(n % d for d in range(2, int(n ** 0.5) + 1))\n",
         "def is_prime(n):\n    if n < 2:\n        return False\n    d = 2\n    while d * d <= n:\n"
         "        if n % d == 0:\n            return False\n        d += 1\n    return True\n",
         "def is_prime(n):\n    return n > 1 and not any(n % k == 0 for k in range(2, n))\n"],
        ["def is_prime(n):\n    return n % 2 == 1\n",
         "def is_prime(n):\n    return n > 1 and n % 2 != 0 and n % 3 != 0 or n in (2, 3)\n"]),
    "second_largest": (
        "assert second_largest([1, 2, 3]) == 2\n",
        ["def second_largest(xs):\n    return sorted(set(xs))[-2]\n",
         "def second_largest(xs):\n    top = max(xs)\n    return max(x for x in xs if x != top)\n"],
        ["def second_largest(xs):\n    return sorted(xs)[-2]\n",
         "def second_largest(xs):\n    return xs[-2]\n",
         "def second_largest(xs):\n    return sorted(xs)[1]\n"]),
    "count_words": (
        "assert count_words('a b') == 2\n",
        ["def count_words(s):\n    return len(s.split())\n",
         "import re\n\ndef count_words(s):\n    return len(re.findall(r'\\S+', s))\n",
         "def count_words(s):\n    n, inside = 0, False\n    for c in s:\n"
         "        if c.isspace():\n            inside = False\n        elif not inside:\n"
         "            inside = True\n            n += 1\n    return n\n"],
        ["def count_words(s):\n    return s.count(' ') + 1\n",
         "def count_words(s):\n    return len(s.split(' '))\n"]),
    "factorial": (
        "assert factorial(3) == 6\n",
        ["import math\n\ndef factorial(n):\n    return math.prod(range(1, n + 1))\n",
         "def factorial(n):\n    r = 1\n    for k in range(2, n + 1):\n        r *= k\n"
         "    return r\n",
         "def factorial(n):\n    return 1 if n <= 1 else n * factorial(n - 1)\n"],
        ["def factorial(n):\n    return n * (n - 1) if n > 1 else 1\n",
         "def factorial(n):\n    return n + n if n > 1 else 1\n"]),
    "fizz": (
        "assert fizz(3) == 'Fizz'\nassert fizz(7) == '7'\n",
        ["def fizz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n    if n % 3 == 0:\n"
         "        return 'Fizz'\n    if n % 5 == 0:\n        return 'Buzz'\n    return str(n)\n",
         "def fizz(n):\n    s = ('Fizz' if n % 3 == 0 else '') + ('Buzz' if n % 5 == 0 else '')\n"
         "    return s or str(n)\n"],
        ["def fizz(n):\n    if n % 3 == 0:\n        return 'Fizz'\n    if n % 5 == 0:\n"
         "        return 'Buzz'\n    return str(n)\n",
         "def fizz(n):\n    return 'Fizz' if n % 3 == 0 else str(n)\n",
         "def fizz(n):\n    if n % 3 == 0:\n        return 'Fizz'\n    if n % 15 == 0:\n"
         "        return 'FizzBuzz'\n    return str(n)\n"]),
    "running_max": (
        "assert running_max([1, 3, 2]) == [1, 3, 3]\n",
        ["def running_max(xs):\n    out = []\n    for x in xs:\n"
         "        out.append(x if not out else max(out[-1], x))\n    return out\n",
         "import itertools\n\ndef running_max(xs):\n"
         "    return list(itertools.accumulate(xs, max))\n",
         "def running_max(xs):\n    return [max(xs[:i + 1]) for i in range(len(xs))]\n"],
        ["def running_max(xs):\n    return xs[:1] + [max(a, b) for a, b in zip(xs, xs[1:])]\n",
         "def running_max(xs):\n"
         "    return sorted(xs)[:1] + [max(xs[:i + 1]) for i in range(1, len(xs))]\n"]),
    "median": (
        "assert median([3, 1, 2]) == 2\n",
        ["import statistics\n\ndef median(xs):\n    return statistics.median(xs)\n",
         "def median(xs):\n    s = sorted(xs)\n    m = len(s) // 2\n"
         "    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2\n"],
        ["def median(xs):\n    return sorted(xs)[len(xs) // 2]\n",
         "def median(xs):\n    return sorted(xs)[1]\n",
         "def median(xs):\n    return sum(xs) / len(xs)\n"]),
    "count_vowels": (
        "assert count_vowels('hello') == 2\n",
        ["def count_vowels(s):\n    return sum(c in 'aeiou' for c in s.lower())\n",
         "def count_vowels(s):\n    return len([c for c in s if c in 'aeiouAEIOU'])\n",
         "import re\n\ndef count_vowels(s):\n    return len(re.findall('[aeiou]', s, re.I))\n"],
        ["def count_vowels(s):\n    return sum(c in 'aeiou' for c in s)\n",
         "def count_vowels(s):\n    return sum(s.count(v) for v in 'aeo')\n"]),
    "gcd": (
        "assert gcd(12, 8) == 4\n",
        ["import math\n\ndef gcd(a, b):\n    return math.gcd(a, b)\n",
         "def gcd(a, b):\n    a, b = abs(a), abs(b)\n    while b:\n        a, b = b, a % b\n"
         "    return a\n",
         "def gcd(a, b):\n    a, b = abs(a), abs(b)\n    return a if b == 0 else gcd(b, a % b)\n"],
        ["def gcd(a, b):\n    return min(a, b) // 2\n",
         "def gcd(a, b):\n    return abs(a - b)\n"]),
    "is_palindrome": (
        "assert is_palindrome('abba')\n",
        ["def is_palindrome(s):\n    s = s.lower()\n    return s == s[::-1]\n",
         "def is_palindrome(s):\n    t = s.casefold()\n"
         "    return all(t[i] == t[-1 - i] for i in range(len(t) // 2))\n"],
        ["def is_palindrome(s):\n    return s == s[::-1]\n",
         "def is_palindrome(s):\n    return s[0] == s[-1]\n",
         "def is_palindrome(s):\n    return len(s) % 2 == 0\n"]),
    "dedupe": (
        "assert dedupe([1, 1, 2]) == [1, 2]\n",
        ["def dedupe(xs):\n    return list(dict.fromkeys(xs))\n",
         "def dedupe(xs):\n    seen, out = set(), []\n    for x in xs:\n        if x not in seen:\n"
         "            seen.add(x)\n            out.append(x)\n    return out\n"],
        ["def dedupe(xs):\n    return sorted(set(xs))\n",
         "def dedupe(xs):\n"
         "    return [x for i, x in enumerate(xs) if i == 0 or xs[i - 1] != x]\n"]),
}


def records(seed: int = 7) -> list[dict[str, Any]]:
    """Every candidate in the verify format, with ``task_id`` and the ground truth."""
    rows: list[dict[str, Any]] = []
    for name, (tests, correct, wrong) in TASKS.items():
        pool = [(code, True) for code in correct] + [(code, False) for code in wrong]
        random.Random(f"{seed}:{name}").shuffle(pool)
        for index, (code, right) in enumerate(pool):
            rows.append({"id": f"{name}/{index}", "task_id": name, "code": code,
                         "tests": tests, "test_style": "assert", "entry_point": name,
                         "correct": right})
    return rows
