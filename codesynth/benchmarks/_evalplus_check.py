"""The test program of one EvalPlus part (base or plus inputs), as EvalPlus defines a pass.

For each input, in order: the reference (``prompt + canonical_solution``, loaded in its own
namespace) gives the expected output on a deep copy of the input; the candidate's output on
another copy must equal it exactly, or, when a tolerance applies, have the same type (and
length) and be close (``|out - exp| <= atol + 1e-7 * |exp|`` elementwise). A tolerance of 0
becomes 1e-6 from the first input whose expected output is a float (or a list of floats) on.
The special oracles of EvalPlus apply (HumanEval/32 ``find_zero``: the polynomial at the
answer is within ``atol`` of 0; MBPP+: set equality for tasks whose order is free, ``is not
None`` for tasks whose outputs cannot be compared). One test statement per input, so each
input is its own outcome in the trace.

These tests, the reference included, run in the judge: the candidate's process never holds
the reference or the inputs' expected outputs, and cannot change what the reference returns.
"""

from __future__ import annotations

import json
from typing import Any

# MBPP+ entry points compared as sets, and those whose outputs only count as None or not.
SET_EQUAL = ("similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
             "larg_nnum", "intersection_array", "find_dissimilar", "Diff")
NOT_NONE = ("check_str", "text_match_three", "text_starta_endb")

_HELPERS = '''
import copy as _cs_copy
import json as _cs_json
import math as _cs_math

_cs_state = {"atol": _CS_ATOL}
_cs_reference = {}
exec(compile(_CS_REFERENCE, "<reference>", "exec"), _cs_reference)
_cs_inputs = _cs_json.loads(_CS_INPUTS)


def _cs_floats(value):
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(item, float) for item in value)
    return False


def _cs_close(out, exp, atol):
    if isinstance(exp, (list, tuple)):
        return isinstance(out, (list, tuple)) and len(out) == len(exp) and all(
            _cs_close(a, b, atol) for a, b in zip(out, exp))
    if isinstance(out, (list, tuple)):
        return all(_cs_close(a, exp, atol) for a in out)
    if _cs_math.isinf(exp) or _cs_math.isinf(out):
        return out == exp
    return abs(out - exp) <= atol + 1e-07 * abs(exp)


def _cs_check(index):
    given = _cs_inputs[index]
    expected = _cs_reference[_CS_ENTRY](*_cs_copy.deepcopy(given))
    if _CS_NOT_NONE:
        expected = expected is not None
    out = globals()[_CS_ENTRY](*_cs_copy.deepcopy(given))
    if _CS_FIND_ZERO:
        xs = given[0]
        value = sum(c * _cs_math.pow(out, i) for i, c in enumerate(xs))
        assert abs(value) <= _cs_state["atol"], f"poly({out!r}) = {value!r}"
        return
    if _CS_NOT_NONE:
        same = out == expected if isinstance(out, bool) else expected == (out is not None)
    elif _CS_SET_EQUAL:
        same = set(out) == set(expected)
    else:
        same = out == expected
    if _cs_state["atol"] == 0 and _cs_floats(expected):
        _cs_state["atol"] = 1e-06
    atol = _cs_state["atol"]
    if not same and atol != 0:
        assert type(out) == type(expected), f"{type(out).__name__} != {type(expected).__name__}"
        assert _cs_close(out, expected, atol), f"input {index}: {out!r} != {expected!r}"
    else:
        assert same, f"input {index}: {out!r} != {expected!r}"
'''


def check_program(reference: str, entry_point: str, inputs: list[Any], atol: float,
                  dataset: str) -> str:
    """The tests of one part: the helpers, then ``_cs_check(i)`` for each input."""
    values = {
        "_CS_REFERENCE": repr(reference), "_CS_ENTRY": repr(entry_point),
        "_CS_INPUTS": repr(json.dumps(inputs)), "_CS_ATOL": repr(float(atol)),
        "_CS_FIND_ZERO": repr(dataset == "humaneval" and entry_point == "find_zero"),
        "_CS_SET_EQUAL": repr(dataset == "mbpp" and entry_point in SET_EQUAL),
        "_CS_NOT_NONE": repr(dataset == "mbpp" and entry_point in NOT_NONE),
    }
    header = "".join(f"{name} = {value}\n" for name, value in values.items())
    calls = "".join(f"_cs_check({index})\n" for index in range(len(inputs)))
    return header + _HELPERS + calls
