# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""JavaScript and TypeScript: the driver is appended to the program's file (a ``const``
function is only visible there); arguments are JSON literals; TypeScript calls through
``as any`` (the tests' literals carry no TypeScript types). Numbers cross as JSON numbers
(JavaScript has one number type: the judge compares them numerically); an object's keys
are strings (``string_keys``)."""

from __future__ import annotations

import json
from typing import Any

from codesynth.harness.calls import Plan
from codesynth.harness.drivers import Form, Unrenderable, resolve

_DRIVER = r"""
;(function codesynthDriver() {
  const fs = require("fs");
  let start = 0;
  try { start = parseInt(fs.readFileSync(0, "utf8").trim(), 10) || 0; } catch (e) { start = 0; }
  const text = (s) => JSON.stringify(String(s));
  const put = (v) => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number") {
      if (Number.isNaN(v)) return "NaN";
      if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
      return JSON.stringify(v);
    }
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return "[" + v.map(put).join(",") + "]";
    if (v instanceof Set) return put(Array.from(v));
    if (v instanceof Map) return '{"__map__":[' + Array.from(v.entries()).map(([k, x]) => "[" + put(k) + "," + put(x) + "]").join(",") + "]}";
    if (typeof v === "object") return '{"string_keys":true,"__map__":[' + Object.keys(v).map((k) => "[" + text(k) + "," + put(v[k]) + "]").join(",") + "]}";
    return '{"__object__":' + text(v) + "}";
  };
  const calls = [
CODESYNTH_CALLS
  ];
  for (let i = start; i < calls.length; i++) {
    let body;
    try { body = put(calls[i]()); }
    catch (e) {
      body = '{"__error__":' + text(e && e.stack ? String(e).slice(0, 2000) : e) +
        (e instanceof RangeError && /memory|allocation|Array buffer|Invalid array length/.test(String(e)) ? ',"kind":"memory"' : "") + "}";
    }
    fs.writeSync(3, i + "\t" + body + "\n");
  }
})();
"""


def literal(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        if all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in value):
            return "{" + ", ".join(f"{json.dumps(str(k))}: {literal(v)}"
                                   for k, v in value.items()) + "}"
        raise Unrenderable("a dict whose keys are not strings or numbers")
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return json.dumps(value)


def _driver(code: str, plan: Plan, cast: str) -> Form:
    rows = []
    pattern = r"(?:\bfunction\s*\*?\s*{0}\b|\b(?:const|let|var)\s+{0}\s*[=:])"
    for call in plan.calls:
        name = resolve(call.function, code, pattern)
        args = ", ".join(literal(a) for a in call.args)
        rows.append(f"    () => ({name}{cast})({args}),")
    return Form(source=code + "\n" + _DRIVER.replace("CODESYNTH_CALLS", "\n".join(rows)))


def driver(code: str, plan: Plan) -> Form:
    return _driver(code, plan, "")


def typescript_driver(code: str, plan: Plan) -> Form:
    return _driver(code, plan, " as any")
