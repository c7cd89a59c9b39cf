"""How a ``run_code`` / ``execute_batch`` script of one language becomes a sandbox job.

A language is a plugin found by name (entry point group ``codesynth.run_languages``): a class
with ``language`` (the job's language) and ``script(code, stdin, files, show_last, mark)``
returning the job's program and tests. Only Python is wired in so far (the sandbox runs more
languages: see codesynth/languages.py); any other name SandboxFusion knows gets its "not
supported" answer (see :mod:`codesynth.serve.compat`).

The Python script runs the submitted code as ``__main__`` (as ``python main.py`` would), with
``stdin`` on ``sys.stdin`` and ``files`` (base64) written to the working directory first. An
uncaught exception prints its traceback on stderr and exits 1; ``sys.exit(n)`` exits ``n``.
With ``show_last`` (Jupyter's rule, for ``execute_batch``), the value of a final expression
and the error, if any, are written after the program's output between two ``mark`` strings.
"""

from __future__ import annotations

from typing import Any

from codesynth.registry import Registry

languages = Registry("run_code language", "codesynth.run_languages",
                     {"python": "codesynth.serve.languages:Python"})

_PYTHON = '''\
import ast as _ast, base64 as _b64, io as _io, json as _json, os as _os, sys as _sys
import traceback as _tb
_sys.stdin = _io.TextIOWrapper(_io.BytesIO({stdin!r}.encode()), encoding="utf-8")
for _path, _data in {files!r}.items():
    _os.makedirs(_os.path.dirname(_path) or ".", exist_ok=True)
    with open(_path, "wb") as _out:
        _out.write(_b64.b64decode(_data or ""))
_ns = {{"__name__": "__main__", "__builtins__": __builtins__, "__file__": "main.py"}}
_shown = {{"text": None, "error": None}}
_code = 0
try:
    _tree = _ast.parse({code!r}, "main.py")
    _last = None
    if {show_last!r} and _tree.body and isinstance(_tree.body[-1], _ast.Expr):
        _last = _ast.Expression(_tree.body.pop().value)
    exec(compile(_tree, "main.py", "exec"), _ns)
    if _last is not None:
        _value = eval(compile(_last, "main.py", "eval"), _ns)
        if _value is not None:
            _shown["text"] = repr(_value)
except SystemExit as _exit:
    _code = _exit.code
    if _code is not None and not isinstance(_code, int):
        print(_code, file=_sys.stderr)
        _code = 1
except MemoryError:
    raise
except BaseException as _error:
    _text = "".join(_tb.format_exception(type(_error), _error, _error.__traceback__.tb_next))
    _shown["error"] = {{"name": type(_error).__name__, "value": str(_error),
                       "traceback": _text}}
    if not {show_last!r}:
        _sys.stderr.write(_text)
    _code = 1
if {show_last!r}:
    _sys.stdout.write({mark!r} + _json.dumps(_shown) + {mark!r})
_sys.stdout.flush()
_sys.stderr.flush()
if _code:
    _os._exit(_code & 0xFF)
'''


class Python:
    language = "python"

    @staticmethod
    def script(code: str, stdin: str | None, files: dict[str, Any], show_last: bool,
               mark: str) -> tuple[str, str]:
        program = _PYTHON.format(code=code, stdin=stdin or "", files=dict(files),
                                 show_last=show_last, mark=mark)
        return program, "assert True\n"
