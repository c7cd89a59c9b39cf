"""Java compiled outside the job by the worker's warm compiler (``sandbox/_javac_service``).

javac costs ~0.4 s of CPU per sample when it starts in the job; a JVM that stays warm in the
runner compiles the same sources in tens of milliseconds. The runner works out, before the
job starts, exactly what the judge will build (``planned``: the same forms the judge makes)
and which javac run that is (``javac_request``), compiles it in its service, and puts the
outcome in the job (``job["warm_build"]``, with a digest of the options and sources). The
judge uses it only when its own build has the same digest (``apply``): the class files go to
the judged process, which then only runs ``java``; javac's diagnostics become the compile
error exactly as an in-job javac's would; a build past its deadline is ``timeout``. Anything
else (no service, another compile command, a class path, a service that failed) is the
in-job ``javac`` as before. ``CODESYNTH_JAVA_WARM=0`` on the host turns the service off.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from typing import Any

from codesynth.languages import JAVA_CLASS_PATH, JAVATUPLES_JAR

BUILD = "warm-javac"  # what the trace says of a build made this way
STYLES = ("native", "assert", "humaneval", "stdio")
MAX_CLASS_BYTES = 16 << 20  # more than this goes back to the in-job javac
CLASS_NAME = re.compile(r"[\w$]+(?:\.[\w$]+)*")
_OPTIONS_WITH_VALUE = {"-encoding"}
_FLAGS = {"-nowarn", "-g", "-parameters"}


def enabled() -> bool:
    return os.environ.get("CODESYNTH_JAVA_WARM", "1") != "0"


def planned(job: dict[str, Any]) -> tuple[dict[str, Any] | None, str] | None:
    """The form and code the judge will build for ``job`` (None: not a Java build of ours,
    or one the judge will refuse before building)."""
    from codesynth.harness.calls import parse
    from codesynth.harness.compiled_tests import _form
    from codesynth.harness.drivers import driver_form
    from codesynth.harness.drivers.frameworks import framework_form
    from codesynth.harness.drivers.native import native_form

    if job.get("language") != "java" or job.get("test_style") not in STYLES:
        return None
    code, style = job["code"], job["test_style"]
    if style == "stdio":
        return None, code
    if style == "native":
        found = framework_form("java", code, job["tests"])
        form = found[1] if found else native_form("java", code, job["tests"])
    else:
        plan = parse(job["tests"], job.get("entry_point"), style == "humaneval")
        form = driver_form("java", code, plan)
    return _form(form), form.source


def javac_request(language: str, code: str, form: dict[str, Any] | None
                  ) -> tuple[list[str], dict[str, str]] | None:
    """The options and sources (name -> text) of the javac run that builds ``code`` with
    ``form`` in the job (as ``compiled.Built.build`` writes and compiles them), or None when
    that is not a plain ``javac -d .`` of listed sources."""
    from codesynth.harness.compiled import _language

    if language != "java":
        return None
    java = _language(language)
    form = form or {}
    files = {**java.support_files, **form.get("files", {})}
    if code or not form.get("files"):
        files[java.source_name(code)] = code
    template = tuple(form.get("compile") or java.compile or ())
    if not template or template[0] != "javac":
        return None
    # Each name found once (Language.command scans the source for every part it formats).
    names = {"source": java.source_name(code), "main": java.main_name(code),
             "entry": java.entry_name(code)}
    try:
        argv = [part.format(**names) for part in template[1:] if not part.startswith("-J")]
    except (KeyError, IndexError, ValueError):
        return None  # a placeholder we do not mirror
    options: list[str] = []
    sources: dict[str, str] = {}
    parts = iter(argv)
    for part in parts:
        if part == "-d":
            if next(parts, None) != ".":
                return None
        elif part == "-cp":  # only the class path every Java build has (javatuples)
            if next(parts, None) != JAVA_CLASS_PATH:
                return None
            options += ["-classpath", JAVATUPLES_JAR]  # (the service's "." is empty)
        elif part in _OPTIONS_WITH_VALUE:
            options += [part, next(parts, "")]
        elif part in _FLAGS:
            options.append(part)
        elif part.endswith(".java") and part in files:
            sources[part] = files[part]
        else:
            return None  # a class path, another output, an option we do not mirror
    return (options, sources) if sources else None


def digest(options: list[str], sources: dict[str, str]) -> str:
    data = json.dumps([options, sorted(sources.items())], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def outcome(answer: Any, key: str, seconds: float) -> dict[str, Any] | None:
    """What the runner puts in ``job["warm_build"]`` for the service's ``answer``."""
    from codesynth.sandbox._javac_service import Compiled, Rejected, Timeout

    if isinstance(answer, Compiled):
        if sum(len(data) for data in answer.classes.values()) > MAX_CLASS_BYTES or not all(
                CLASS_NAME.fullmatch(name) for name in answer.classes):
            return None
        return {"digest": key, "seconds": seconds, "classes": {
            name: base64.b64encode(data).decode() for name, data in answer.classes.items()}}
    if isinstance(answer, Rejected):
        from codesynth.harness.compiled import _language

        if not _language("java").located_error(answer.output):
            return None  # javac crashed (a StackOverflowError...): the job's javac says how
        return {"digest": key, "seconds": seconds, "output": answer.output}
    if isinstance(answer, Timeout):
        return {"digest": key, "seconds": answer.seconds, "timeout": True}
    return None  # Failed: the job builds with its own javac


def apply(job: dict[str, Any], code: str, form: dict[str, Any] | None
          ) -> dict[str, Any] | None:
    """In the judge: the warm build to use for this build (None: build in the job)."""
    warm = job.get("warm_build")
    if type(warm) is not dict or type(warm.get("digest")) is not str:
        return None
    request = javac_request(job.get("language", ""), code, form)
    if request is None or digest(*request) != warm["digest"]:
        return None
    return warm


def valid_classes(classes: Any) -> bool:
    return type(classes) is dict and all(
        type(name) is str and CLASS_NAME.fullmatch(name) and type(data) is str
        for name, data in classes.items())


def write_classes(classes: dict[str, str], workdir: str) -> None:
    """In the judged process: the class files of a warm build, where ``javac -d .`` puts
    them (``pkg.Main$1`` -> ``pkg/Main$1.class``)."""
    for name, data in classes.items():
        path = os.path.join(workdir, *name.split(".")) + ".class"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data, validate=True))


def prepare(job: dict[str, Any], request: dict[str, Any], evidence: Any
            ) -> dict[str, Any] | None:
    """In the judge, before asking the judged process to build: with a warm build that
    matches, either the build's report (a compile error, or a ``timeout`` already final:
    ``{"final": True}``), or None after adding the class files to ``request``; None without
    one (the judged process runs javac)."""
    warm = apply(job, request["code"], request.get("form"))
    if warm is None:
        return None
    seconds = float(warm.get("seconds", 0.0))
    evidence.emit("build", how=BUILD, seconds=round(seconds, 6))
    if warm.get("timeout"):
        evidence.final("timeout", phase="code", reason=f"the build ran past its deadline "
                       f"({seconds:.2f} s) in the worker's warm javac")
        return {"final": True}
    if type(warm.get("output")) is str:
        from codesynth.harness.compiled import _DIAGNOSTICS, _language

        output = warm["output"][-_DIAGNOSTICS:]
        message, line = _language("java").first_error(output)
        return {"ok": False, "message": message, "line": line, "output": output,
                "seconds": seconds, "signal": None, "starved": None}
    if not valid_classes(warm.get("classes")):
        return None
    request["form"] = {**(request.get("form") or {}), "classes": warm["classes"]}
    return None


# Larger programs and tests build in the job, under its limits: the runner reads a program
# (its class names) before the job's clock runs, and must not spend long on any.
MAX_INPUT_CHARS = 256 << 10


def attach(job: dict[str, Any], service: Any, limits: dict[str, Any]
           ) -> tuple[dict[str, Any], float]:
    """In the runner, before the job starts: ``job`` with its warm build, when it has one,
    and the CPU seconds that build took (the job's: the runner takes them off its budget).
    The build gets the job's own limits: past its CPU limit it is ``timeout``; one whose
    compiler outgrew the job's memory limit goes back to the job's own javac, which meets
    that limit in the job (``memory``), as without this service."""
    if len(job.get("code", "")) + len(str(job.get("tests", ""))) > MAX_INPUT_CHARS:
        return job, 0.0
    try:
        found = planned(job)
        request = javac_request("java", found[1], found[0]) if found else None
    except Exception:  # noqa: BLE001 - the judge meets the same problem and reports it
        return job, 0.0
    if request is None or not service.available():
        return job, 0.0
    cpu = float(limits.get("cpu_time") or limits["timeout"])
    start = time.perf_counter()
    answer = service.compile(*request, cpu=cpu, memory_mb=int(limits["memory_mb"]),
                             wall=max(cpu, float(limits["timeout"])))
    made = outcome(answer, digest(*request), time.perf_counter() - start)
    return (job, 0.0) if made is None else ({**job, "warm_build": made}, service.used_cpu)
