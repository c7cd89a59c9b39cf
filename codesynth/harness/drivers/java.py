# ruff: noqa: E501 - templates and programs in other languages keep their own line lengths
"""Java: a ``CodesynthDriver`` class beside the program's. Arguments are rendered as plain
Java objects (Long, Double, String, Boolean, null, lists, maps); the driver finds the
method in the program's classes by reflection (static, or on a new instance: HumanEval-X's
``Solution``), converts each argument to the parameter's generic type, and writes the
result as JSON to ``/proc/self/fd/3``."""

from __future__ import annotations

import math
import re
from typing import Any

from codesynth.harness.calls import Plan
from codesynth.harness.drivers import Form, Unrenderable, resolve
from codesynth.languages import _JVM_FLAGS, JAVA_CLASS_PATH, JAVAC_FLAGS

_DRIVER = r"""import java.lang.reflect.*;
import java.util.*;

public class CodesynthDriver {
    static List<Object> L(Object... xs) { return new ArrayList<>(Arrays.asList(xs)); }
    static Map<Object, Object> M(Object... kv) {
        Map<Object, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }
    static final String[] CLASSES = {CODESYNTH_CLASSES};
    static final String[] NAMES = {CODESYNTH_NAMES};
    static Object[][] args() { return new Object[][] {
CODESYNTH_ARGS
    }; }

    static Object convert(Object v, Type t) {
        Class<?> raw = t instanceof Class ? (Class<?>) t
            : t instanceof ParameterizedType ? (Class<?>) ((ParameterizedType) t).getRawType() : Object.class;
        Type[] params = t instanceof ParameterizedType ? ((ParameterizedType) t).getActualTypeArguments() : new Type[0];
        Type first = params.length > 0 ? params[0] : Object.class;
        if (raw == Optional.class) return v == null ? Optional.empty() : Optional.of(convert(v, first));
        if (v == null) return null;
        if (raw == int.class || raw == Integer.class) return ((Number) v).intValue();
        if (raw == long.class || raw == Long.class) return ((Number) v).longValue();
        if (raw == double.class || raw == Double.class) return ((Number) v).doubleValue();
        if (raw == float.class || raw == Float.class) return ((Number) v).floatValue();
        if (raw == short.class || raw == Short.class) return ((Number) v).shortValue();
        if (raw == byte.class || raw == Byte.class) return ((Number) v).byteValue();
        if (raw == char.class || raw == Character.class) return ((String) v).charAt(0);
        if (raw.isArray()) {
            List<?> items = (List<?>) v;
            Object array = Array.newInstance(raw.getComponentType(), items.size());
            for (int i = 0; i < items.size(); i++) Array.set(array, i, convert(items.get(i), raw.getComponentType()));
            return array;
        }
        if (Map.class.isAssignableFrom(raw)) {
            Map<Object, Object> m = raw.isInterface() ? new HashMap<>() : newInstance(raw);
            Type valueType = params.length > 1 ? params[1] : Object.class;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) m.put(convert(e.getKey(), first), convert(e.getValue(), valueType));
            return m;
        }
        if (Collection.class.isAssignableFrom(raw)) {
            Collection<Object> c = raw.isInterface() ? (Set.class.isAssignableFrom(raw) ? new HashSet<>() : new ArrayList<>()) : newInstance(raw);
            for (Object x : (List<?>) v) c.add(convert(x, first));
            return c;
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    static <T> T newInstance(Class<?> c) {
        try { return (T) c.getDeclaredConstructor().newInstance(); } catch (Exception e) { throw new RuntimeException(e); }
    }

    static void text(StringBuilder o, String s) {
        o.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') o.append('\\').append(c);
            else if (c < 0x20) o.append(String.format("\\u%04x", (int) c));
            else o.append(c);
        }
        o.append('"');
    }

    static void put(StringBuilder o, Object v) {
        if (v == null) o.append("null");
        else if (v instanceof Optional) { Optional<?> p = (Optional<?>) v; if (p.isPresent()) put(o, p.get()); else o.append("null"); }
        else if (v instanceof Boolean) o.append(v);
        else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d)) o.append("NaN");
            else if (Double.isInfinite(d)) o.append(d > 0 ? "Infinity" : "-Infinity");
            else o.append(v instanceof Float ? Float.toString((Float) v) : Double.toString(d));
        }
        else if (v instanceof Number) o.append(v.toString());
        else if (v instanceof Character || v instanceof CharSequence) text(o, v.toString());
        else if (v instanceof Map) {
            o.append("{\"__map__\":["); boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) o.append(','); first = false;
                o.append('['); put(o, e.getKey()); o.append(','); put(o, e.getValue()); o.append(']');
            }
            o.append("]}");
        }
        else if (v instanceof Iterable) {
            o.append('['); boolean first = true;
            for (Object x : (Iterable<?>) v) { if (!first) o.append(','); first = false; put(o, x); }
            o.append(']');
        }
        else if (v.getClass().isArray()) {
            o.append('[');
            for (int i = 0; i < Array.getLength(v); i++) { if (i > 0) o.append(','); put(o, Array.get(v, i)); }
            o.append(']');
        }
        else { o.append("{\"__object__\":"); text(o, String.valueOf(v)); o.append('}'); }
    }

    static String one(String name, Object[] args) {
        StringBuilder o = new StringBuilder();
        try {
            for (String className : CLASSES) {
                Class<?> c;
                try { c = Class.forName(className); } catch (ClassNotFoundException e) { continue; }
                for (Method m : c.getDeclaredMethods()) {
                    if (!m.getName().equals(name) || m.getParameterCount() != args.length) continue;
                    m.setAccessible(true);
                    Type[] types = m.getGenericParameterTypes();
                    Object[] converted = new Object[args.length];
                    for (int i = 0; i < args.length; i++) converted[i] = convert(args[i], types[i]);
                    Object target = Modifier.isStatic(m.getModifiers()) ? null : newInstance(c);
                    put(o, m.invoke(target, converted));
                    return o.toString();
                }
            }
            o.append("{\"__error__\":"); text(o, "no method " + name + " taking " + args.length + " argument(s)"); o.append('}');
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            o.setLength(0);
            o.append("{\"__error__\":"); text(o, cause.toString());
            if (cause instanceof OutOfMemoryError) o.append(",\"kind\":\"memory\"");
            o.append('}');
        } catch (Throwable e) {
            o.setLength(0);
            o.append("{\"__error__\":"); text(o, e.toString()); o.append('}');
        }
        return o.toString();
    }

    public static void main(String[] argv) throws Exception {
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        String line = in.readLine();
        int start = 0;
        try { start = Integer.parseInt(line == null ? "0" : line.trim()); } catch (NumberFormatException e) { start = 0; }
        Object[][] calls = args();
        try (java.io.FileOutputStream out = new java.io.FileOutputStream("/proc/self/fd/3", true)) {
            for (int i = start; i < calls.length; i++) {
                String body = one(NAMES[i], calls[i]);
                out.write((i + "\t" + body + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.flush();
            }
        }
    }
}
"""


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean.TRUE" if value else "Boolean.FALSE"
    if isinstance(value, int):
        return f"Long.valueOf({value}L)"
    if isinstance(value, float):
        if math.isnan(value):
            return "Double.valueOf(Double.NaN)"
        if math.isinf(value):
            return "Double.valueOf(Double.POSITIVE_INFINITY)" if value > 0 else \
                "Double.valueOf(Double.NEGATIVE_INFINITY)"
        return f"Double.valueOf({value!r}d)"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, (list, tuple)):
        return "L(" + ", ".join(literal(v) for v in value) + ")"
    if isinstance(value, dict):
        return "M(" + ", ".join(f"{literal(k)}, {literal(v)}" for k, v in value.items()) + ")"
    raise Unrenderable(f"no Java literal for {type(value).__name__}")


def string(value: str) -> str:
    units = value.encode("utf-16-le")
    chars = [int.from_bytes(units[i:i + 2], "little") for i in range(0, len(units), 2)]
    return "\"" + "".join(chr(c) if 0x20 <= c < 0x7f and chr(c) not in "\"\\" else
                          f"\\u{c:04x}" for c in chars) + "\""


def driver(code: str, plan: Plan) -> Form:
    classes = re.findall(r"\b(?:class|interface|enum|record)\s+(\w+)", code) or ["Solution"]
    names = [resolve(call.function, code, r"\b{}\s*\(") for call in plan.calls]
    rows = ",\n".join("        {" + ", ".join(literal(a) for a in call.args) + "}"
                      for call in plan.calls)
    text = _DRIVER.replace("CODESYNTH_CLASSES", ", ".join(string(c) for c in classes)).replace(
        "CODESYNTH_NAMES", ", ".join(string(n) for n in names)).replace("CODESYNTH_ARGS", rows)
    return Form(source=code, files={"CodesynthDriver.java": text},
                compile=["javac", *JAVAC_FLAGS, "-nowarn", "-cp", JAVA_CLASS_PATH, "-d", ".",
                         "{source}", "CodesynthDriver.java"],
                run=["java", *_JVM_FLAGS, "-cp", JAVA_CLASS_PATH, "CodesynthDriver"])
