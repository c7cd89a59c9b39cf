# ruff: noqa: E501 - the Go driver keeps gofmt's line lengths
"""Go: the program as ``package main`` (its own ``main`` renamed) and a driver file that
converts each call's JSON arguments to the function's parameter types by reflection, calls
it under ``recover``, and writes the result (several results: a list) as JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from codesynth.harness.calls import MAP, Plan
from codesynth.harness.drivers import Form, resolve

_DRIVER = r"""package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
)

var codesynthCalls = []struct {
	fn   interface{}
	args string
}{
CODESYNTH_CALLS
}

func codesynthConvert(v interface{}, t reflect.Type) reflect.Value {
	out := reflect.New(t).Elem()
	if v == nil {
		return out
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.(json.Number)
		if i, err := n.Int64(); err == nil {
			out.SetInt(i)
		} else {
			f, _ := n.Float64()
			out.SetInt(int64(f))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, _ := v.(json.Number).Int64()
		out.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		f, _ := v.(json.Number).Float64()
		out.SetFloat(f)
	case reflect.Bool:
		out.SetBool(v.(bool))
	case reflect.String:
		out.SetString(v.(string))
	case reflect.Slice:
		items := v.([]interface{})
		out = reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			out.Index(i).Set(codesynthConvert(item, t.Elem()))
		}
	case reflect.Array:
		for i, item := range v.([]interface{}) {
			if i < t.Len() {
				out.Index(i).Set(codesynthConvert(item, t.Elem()))
			}
		}
	case reflect.Map:
		out = reflect.MakeMap(t)
		for _, pair := range v.(map[string]interface{})["__map__"].([]interface{}) {
			kv := pair.([]interface{})
			out.SetMapIndex(codesynthConvert(kv[0], t.Key()), codesynthConvert(kv[1], t.Elem()))
		}
	case reflect.Ptr:
		p := reflect.New(t.Elem())
		p.Elem().Set(codesynthConvert(v, t.Elem()))
		return p
	case reflect.Interface:
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				out.Set(reflect.ValueOf(int(i)))
			} else {
				f, _ := n.Float64()
				out.Set(reflect.ValueOf(f))
			}
		} else {
			out.Set(reflect.ValueOf(v))
		}
	default:
		panic("codesynth: no conversion to " + t.String())
	}
	return out
}

func codesynthText(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func codesynthPut(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("null")
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			b.WriteString("NaN")
		case math.IsInf(f, 1):
			b.WriteString("Infinity")
		case math.IsInf(f, -1):
			b.WriteString("-Infinity")
		default:
			bits := 64
			if v.Kind() == reflect.Float32 {
				bits = 32
			}
			s := strconv.FormatFloat(f, 'g', -1, bits)
			if !strings.ContainsAny(s, ".eE") {
				s += ".0"
			}
			b.WriteString(s)
		}
	case reflect.String:
		b.WriteString(codesynthText(v.String()))
	case reflect.Slice, reflect.Array:
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(",")
			}
			codesynthPut(b, v.Index(i))
		}
		b.WriteString("]")
	case reflect.Map:
		b.WriteString("{\"__map__\":[")
		for i, k := range v.MapKeys() {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("[")
			codesynthPut(b, k)
			b.WriteString(",")
			codesynthPut(b, v.MapIndex(k))
			b.WriteString("]")
		}
		b.WriteString("]}")
	case reflect.Ptr, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
		} else {
			codesynthPut(b, v.Elem())
		}
	default:
		b.WriteString("{\"__object__\":" + codesynthText(fmt.Sprint(v.Interface())) + "}")
	}
}

func codesynthOne(fn interface{}, args string) (result string) {
	defer func() {
		if r := recover(); r != nil {
			result = "{\"__error__\":" + codesynthText(fmt.Sprint("panic: ", r)) + "}"
		}
	}()
	decoder := json.NewDecoder(strings.NewReader(args))
	decoder.UseNumber()
	var raw []interface{}
	if err := decoder.Decode(&raw); err != nil {
		panic(err)
	}
	f := reflect.ValueOf(fn)
	t := f.Type()
	in := make([]reflect.Value, len(raw))
	for i, a := range raw {
		pt := t.In(len(raw) - 1)
		if i < t.NumIn() && !(t.IsVariadic() && i >= t.NumIn()-1) {
			pt = t.In(i)
		} else if t.IsVariadic() {
			pt = t.In(t.NumIn() - 1).Elem()
		}
		in[i] = codesynthConvert(a, pt)
	}
	out := f.Call(in)
	var b strings.Builder
	if len(out) == 1 {
		codesynthPut(&b, out[0])
	} else {
		b.WriteString("[")
		for i, o := range out {
			if i > 0 {
				b.WriteString(",")
			}
			codesynthPut(&b, o)
		}
		b.WriteString("]")
	}
	return b.String()
}

func main() {
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	start, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		start = 0
	}
	out := os.NewFile(3, "results")
	for i := start; i < len(codesynthCalls); i++ {
		body := codesynthOne(codesynthCalls[i].fn, codesynthCalls[i].args)
		out.WriteString(strconv.Itoa(i) + "\t" + body + "\n")
	}
}
"""


def as_json(value: Any) -> Any:
    """Arguments for the reflection converter: tuples are lists, dicts keep typed keys."""
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {MAP: [[as_json(k), as_json(v)] for k, v in value.items()]}
    return value


def as_main_package(code: str) -> str:
    """The program in ``package main``, its own ``main`` renamed (lines kept)."""
    code = re.sub(r"^func\s+main\s*\(\s*\)", "func codesynthProgramMain()", code,
                  flags=re.MULTILINE)
    if re.search(r"^\s*package\s+\w+", code, re.MULTILINE):
        return re.sub(r"^(\s*)package\s+\w+", r"\1package main", code, count=1,
                      flags=re.MULTILINE)
    return "package main; " + code


def driver(code: str, plan: Plan) -> Form:
    rows = []
    for call in plan.calls:
        name = resolve(call.function, code, r"^func\s+{}\s*[\[(]")
        args = json.dumps(json.dumps(as_json(list(call.args)), ensure_ascii=False),
                          ensure_ascii=False)
        rows.append(f"\t{{{name}, {args}}},")
    driver_text = _DRIVER.replace("CODESYNTH_CALLS", "\n".join(rows))
    return Form(source=as_main_package(code), files={"codesynth_driver.go": driver_text},
                compile=["go", "build", "-o", "solution", "main.go", "codesynth_driver.go"])
