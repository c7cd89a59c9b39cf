# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""Rust: the program (its ``fn main`` renamed) and a driver module whose ``CsEmit`` trait
writes standard values as JSON. Arguments are literals typed from the tests (a float
position is ``1.0``, an optional one ``Some(..)``); strings are ``"..".into()`` so both
``String`` and ``&str`` parameters take them; each call runs under ``catch_unwind``."""

from __future__ import annotations

import math
import re
from typing import Any

from codesynth.harness.calls import Plan
from codesynth.harness.drivers import Form, Unrenderable, argument_types, merge, resolve

_EMIT = r"""
#[allow(dead_code, unused_imports, non_snake_case)]
mod codesynth_driver {
    use super::*;
    use std::io::Write;
    pub trait CsEmit { fn cs(&self, o: &mut String); }
    fn text(o: &mut String, s: &str) {
        o.push('"');
        for c in s.chars() {
            match c { '"' => o.push_str("\\\""), '\\' => o.push_str("\\\\"),
                      c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                      c => o.push(c) }
        }
        o.push('"');
    }
    macro_rules! ints { ($($t:ty),*) => { $(impl CsEmit for $t {
        fn cs(&self, o: &mut String) { o.push_str(&self.to_string()); } })* } }
    ints!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
    macro_rules! floats { ($($t:ty),*) => { $(impl CsEmit for $t {
        fn cs(&self, o: &mut String) {
            if self.is_nan() { o.push_str("NaN"); }
            else if self.is_infinite() { o.push_str(if *self > 0.0 { "Infinity" } else { "-Infinity" }); }
            else { let s = format!("{:?}", self); o.push_str(&s); }
        } })* } }
    floats!(f32, f64);
    impl CsEmit for bool { fn cs(&self, o: &mut String) { o.push_str(if *self { "true" } else { "false" }); } }
    impl CsEmit for char { fn cs(&self, o: &mut String) { text(o, &self.to_string()); } }
    impl CsEmit for String { fn cs(&self, o: &mut String) { text(o, self); } }
    impl CsEmit for &str { fn cs(&self, o: &mut String) { text(o, self); } }
    impl CsEmit for () { fn cs(&self, o: &mut String) { o.push_str("null"); } }
    impl<T: CsEmit + ?Sized> CsEmit for Box<T> { fn cs(&self, o: &mut String) { (**self).cs(o); } }
    impl<T: CsEmit> CsEmit for Option<T> {
        fn cs(&self, o: &mut String) { match self { Some(v) => v.cs(o), None => o.push_str("null") } } }
    fn seq<'a, T: CsEmit + 'a>(o: &mut String, items: impl Iterator<Item = &'a T>) {
        o.push('['); let mut first = true;
        for x in items { if !first { o.push(','); } first = false; x.cs(o); }
        o.push(']');
    }
    impl<T: CsEmit> CsEmit for Vec<T> { fn cs(&self, o: &mut String) { seq(o, self.iter()); } }
    impl<T: CsEmit> CsEmit for [T] { fn cs(&self, o: &mut String) { seq(o, self.iter()); } }
    impl<T: CsEmit, const N: usize> CsEmit for [T; N] { fn cs(&self, o: &mut String) { seq(o, self.iter()); } }
    impl<T: CsEmit> CsEmit for std::collections::VecDeque<T> { fn cs(&self, o: &mut String) { seq(o, self.iter()); } }
    impl<T: CsEmit> CsEmit for std::collections::HashSet<T> { fn cs(&self, o: &mut String) { seq(o, self.iter()); } }
    impl<T: CsEmit> CsEmit for std::collections::BTreeSet<T> { fn cs(&self, o: &mut String) { seq(o, self.iter()); } }
    fn pairs<'a, K: CsEmit + 'a, V: CsEmit + 'a>(o: &mut String, items: impl Iterator<Item = (&'a K, &'a V)>) {
        o.push_str("{\"__map__\":["); let mut first = true;
        for (k, v) in items { if !first { o.push(','); } first = false;
            o.push('['); k.cs(o); o.push(','); v.cs(o); o.push(']'); }
        o.push_str("]}");
    }
    impl<K: CsEmit, V: CsEmit> CsEmit for std::collections::HashMap<K, V> { fn cs(&self, o: &mut String) { pairs(o, self.iter()); } }
    impl<K: CsEmit, V: CsEmit> CsEmit for std::collections::BTreeMap<K, V> { fn cs(&self, o: &mut String) { pairs(o, self.iter()); } }
    macro_rules! tuples { ($(($($n:tt $t:ident),+)),*) => { $(impl<$($t: CsEmit),+> CsEmit for ($($t,)+) {
        fn cs(&self, o: &mut String) { o.push('['); let mut first = true;
            $( if !first { o.push(','); } first = false; self.$n.cs(o); )+ let _ = first; o.push(']'); } })* } }
    tuples!((0 A), (0 A, 1 B), (0 A, 1 B, 2 C), (0 A, 1 B, 2 C, 3 D), (0 A, 1 B, 2 C, 3 D, 4 E));
    fn emit(out: &mut std::fs::File, i: usize, body: &str) {
        let _ = out.write_all(format!("{}\t{}\n", i, body).as_bytes());
    }
    fn one<R: CsEmit>(f: impl FnOnce() -> R) -> String {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(v) => { let mut o = String::new(); v.cs(&mut o); o }
            Err(e) => {
                let what = e.downcast_ref::<&str>().map(|s| s.to_string())
                    .or_else(|| e.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                let mut o = String::from("{\"__error__\":"); text(&mut o, &format!("panicked: {}", what)); o.push('}'); o
            }
        }
    }
    pub fn run() {
        use std::os::unix::io::FromRawFd;
        let mut input = String::new();
        let _ = std::io::stdin().read_line(&mut input);
        let start: usize = input.trim().parse().unwrap_or(0);
        let mut out = unsafe { std::fs::File::from_raw_fd(3) };
        std::panic::set_hook(Box::new(|_| {}));
        for i in start..CODESYNTH_CALLS {
            let body = match i {
CODESYNTH_CASES
                _ => String::new(),
            };
            emit(&mut out, i, &body);
        }
    }
}
fn main() { codesynth_driver::run(); }
"""


def literal(value: Any, kind: Any) -> str:
    if isinstance(kind, tuple) and kind[0] == "opt":
        return "None" if value is None else f"Some({literal(value, kind[1])})"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and kind == "float":
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return {"nan": "f64::NAN", "inf": "f64::INFINITY", "-inf": "f64::NEG_INFINITY"}[
                repr(value)]
        text = repr(value)
        return text if "." in text or "e" in text else text + ".0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return literal(value, "float")
    if isinstance(value, str):
        return _string(value)
    element = kind[1] if isinstance(kind, tuple) and kind[0] == "list" else "any"
    if isinstance(value, list):
        return "vec![" + ", ".join(literal(v, element) for v in value) + "]"
    if isinstance(value, tuple):
        parts = kind[1] if isinstance(kind, tuple) and kind[0] == "tuple" and \
            len(kind[1]) == len(value) else ("any",) * len(value)
        inner = ", ".join(literal(v, t) for v, t in zip(value, parts, strict=True))
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        key_type, value_type = (kind[1], kind[2]) if isinstance(kind, tuple) and \
            kind[0] == "dict" else ("any", "any")
        items = ", ".join(f"({literal(k, key_type)}, {literal(v, value_type)})"
                          for k, v in value.items())
        return f"std::collections::HashMap::from([{items}])"
    raise Unrenderable(f"no Rust literal for {type(value).__name__}")


def _string(value: str) -> str:
    escaped = "".join(c if c.isprintable() and c not in "\"\\" else
                      f"\\u{{{ord(c):x}}}" for c in value)
    return f"\"{escaped}\".into()"


def rename_main(code: str) -> str:
    return re.sub(r"\bfn\s+main\s*\(", "fn codesynth_program_main(", code)


def _split(text: str) -> list[str]:
    """``text`` split at its top-level commas."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "<([{"
        depth -= char in ">)]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p.strip() for p in [*parts, current] if p.strip()]


def rust_type(text: str) -> Any:
    """A Rust type as a type term (what the literal rendering needs to know)."""
    text = re.sub(r"^&\s*(?:'\w+\s+)?(?:mut\s+)?", "", text.strip())
    if text in ("f32", "f64"):
        return "float"
    if re.fullmatch(r"[iu](?:8|16|32|64|128|size)", text):
        return "int"
    if text in ("String", "str"):
        return "str"
    if text == "bool":
        return "bool"
    found = re.fullmatch(r"(?:std::\w+::)*(\w+)\s*<(.*)>", text)
    if found:
        head, inner = found.group(1), _split(found.group(2))
        if head in ("Vec", "VecDeque") and inner:
            return ("list", rust_type(inner[0]))
        if head == "Option" and inner:
            return ("opt", rust_type(inner[0]))
        if head in ("HashMap", "BTreeMap") and len(inner) == 2:
            return ("dict", rust_type(inner[0]), rust_type(inner[1]))
    if text.startswith("[") and text.endswith("]"):
        return ("list", rust_type(text[1:-1].split(";")[0]))
    if text.startswith("(") and text.endswith(")"):
        return ("tuple", tuple(rust_type(p) for p in _split(text[1:-1])))
    return "any"


def parameters(code: str, name: str) -> list[Any] | None:
    """The declared parameter types of ``fn name`` in the program, where it is found."""
    found = re.search(r"\bfn\s+" + re.escape(name) + r"\s*(?:<[^>]*>)?\s*\(", code)
    if found is None:
        return None
    depth, index = 1, found.end()
    while index < len(code) and depth:
        depth += code[index] in "(<[" and 1 or 0
        depth -= code[index] in ")>]" and 1 or 0
        index += 1
    params = _split(code[found.end(): index - 1])
    return [rust_type(p.split(":", 1)[1]) if ":" in p else "any" for p in params]


def driver(code: str, plan: Plan) -> Form:
    types = {f: argument_types(plan, f) for f in {c.function for c in plan.calls}}
    cases = []
    for index, call in enumerate(plan.calls):
        name = resolve(call.function, code, r"\bfn\s+{}\b")
        declared = parameters(code, name)
        kinds = [merge(d, s) for d, s in zip(declared, types[call.function], strict=False)] \
            if declared is not None and len(declared) == len(types[call.function]) \
            else types[call.function]
        args = ", ".join(literal(a, kinds[i] if i < len(kinds) else "any")
                         for i, a in enumerate(call.args))
        cases.append(f"                {index} => one(|| {name}({args})),")
    body = _EMIT.replace("CODESYNTH_CALLS", str(len(plan.calls))).replace(
        "CODESYNTH_CASES", "\n".join(cases))
    return Form(source=rename_main(code) + "\n" + body)
