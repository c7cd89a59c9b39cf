# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""C++: ``#include <bits/stdc++.h>`` (precompiled) before the program, ``#line 1`` so its
errors keep their lines, then a driver whose ``put`` writes any standard value as JSON.
Arguments are braced lists and plain literals: the function's own parameter types convert
them (``{1, 2}`` becomes a ``vector<float>``, a ``map`` or a ``pair``)."""

from __future__ import annotations

import math
import re
from typing import Any

from codesynth.harness.calls import Plan
from codesynth.harness.drivers import Form, Unrenderable, resolve

PRELUDE = "#include <bits/stdc++.h>\n#line 1 \"solution.cpp\"\n"


def with_prelude(code: str) -> str:
    """``PRELUDE`` then ``code``, whose own ``#include <bits/stdc++.h>`` lines become
    comments (lines kept): g++ takes the precompiled header only for the first include."""
    return PRELUDE + re.sub(r"^[ \t]*#[ \t]*include[ \t]*<bits/stdc\+\+\.h>",
                            "// <bits/stdc++.h>: included first, precompiled", code,
                            flags=re.MULTILINE)

_EMIT = r"""
namespace codesynth_driver {
template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_pair : std::false_type {};
template <class A, class B> struct is_pair<std::pair<A, B>> : std::true_type {};
template <class T> struct is_tuple : std::false_type {};
template <class... A> struct is_tuple<std::tuple<A...>> : std::true_type {};
template <class T, class = void> struct is_map : std::false_type {};
template <class T> struct is_map<T, std::void_t<typename T::mapped_type>> : std::true_type {};
inline void text(std::string& o, const std::string& s) {
  o += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { o += '\\'; o += (char)c; }
    else if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o += b; }
    else o += (char)c;
  }
  o += '"';
}
template <class T> void put(std::string& o, const T& v) {
  if constexpr (std::is_same_v<T, bool>) { o += v ? "true" : "false"; }
  else if constexpr (std::is_same_v<T, char>) { text(o, std::string(1, v)); }
  else if constexpr (std::is_integral_v<T>) { o += std::to_string(v); }
  else if constexpr (std::is_floating_point_v<T>) {
    double d = (double)v;
    if (std::isnan(d)) { o += "NaN"; return; }
    if (std::isinf(d)) { o += d > 0 ? "Infinity" : "-Infinity"; return; }
    char b[40]; snprintf(b, sizeof b, std::is_same_v<T, float> ? "%.9g" : "%.17g", d);
    std::string s(b);
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    o += s;
  }
  else if constexpr (std::is_convertible_v<T, std::string>) { text(o, std::string(v)); }
  else if constexpr (std::is_same_v<T, std::nullopt_t>) { o += "null"; }
  else if constexpr (is_optional<T>::value) { if (v) put(o, *v); else o += "null"; }
  else if constexpr (is_pair<T>::value) { o += '['; put(o, v.first); o += ','; put(o, v.second); o += ']'; }
  else if constexpr (is_tuple<T>::value) {
    o += '['; bool first = true;
    std::apply([&](const auto&... x) { ((o += first ? "" : ",", first = false, put(o, x)), ...); }, v);
    o += ']';
  }
  else if constexpr (is_map<T>::value) {
    o += "{\"__map__\":["; bool first = true;
    for (const auto& kv : v) { if (!first) o += ','; first = false;
      o += '['; put(o, kv.first); o += ','; put(o, kv.second); o += ']'; }
    o += "]}";
  }
  else { o += '['; bool first = true;
    for (const auto& x : v) { if (!first) o += ','; first = false; put(o, x); }
    o += ']'; }
}
inline void emit(long i, const std::string& body) {
  std::string line = std::to_string(i) + "\t" + body + "\n";
  const char* p = line.data(); size_t n = line.size();
  while (n) { ssize_t w = write(3, p, n); if (w <= 0) break; p += w; n -= (size_t)w; }
}
}
#undef main
int main() {
  long start = 0;
  if (scanf("%ld", &start) != 1) start = 0;
  for (long i = start; i < CODESYNTH_CALLS; i++) {
    std::string o;
    try {
      switch (i) {
CODESYNTH_CASES
      }
    } catch (const std::bad_alloc& e) {
      o = "{\"__error__\":\"std::bad_alloc\",\"kind\":\"memory\"}";
    } catch (const std::exception& e) {
      o.clear(); o = "{\"__error__\":"; codesynth_driver::text(o, e.what()); o += "}";
    } catch (...) {
      o = "{\"__error__\":\"an exception that is not a std::exception\"}";
    }
    codesynth_driver::emit(i, o);
  }
  return 0;
}
"""


def literal(value: Any) -> str:
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}LL" if abs(value) >= 1 << 31 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NAN"
        if math.isinf(value):
            return "INFINITY" if value > 0 else "-INFINITY"
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return "std::string(\"" + "".join(
            f"\\{byte:03o}" if byte < 0x20 or byte >= 0x7f or chr(byte) in "\"\\?" else chr(byte)
            for byte in value.encode("utf-8")) + f"\", {len(value.encode('utf-8'))})"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(literal(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join("{" + literal(k) + ", " + literal(v) + "}"
                               for k, v in value.items()) + "}"
    raise Unrenderable(f"no C++ literal for {type(value).__name__}")


def rename_main(code: str, to: str) -> str:
    return re.sub(r"\bint\s+main\s*\(", f"int {to}(", code)


def driver(code: str, plan: Plan) -> Form:
    cases = []
    for index, call in enumerate(plan.calls):
        name = resolve(call.function, code, r"\b{}\s*\(")
        args = ", ".join(literal(a) for a in call.args)
        cases.append(f"        case {index}: codesynth_driver::put(o, {name}({args})); break;")
    body = _EMIT.replace("CODESYNTH_CALLS", str(len(plan.calls))).replace(
        "CODESYNTH_CASES", "\n".join(cases))
    program = rename_main(code, "codesynth_program_main")
    return Form(source=with_prelude(program) + "\n" + body)
