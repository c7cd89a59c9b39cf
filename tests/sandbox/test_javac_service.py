"""The warm javac service itself (sandbox/_javac_service), outside any sandbox: an annotation
processor on its class path never runs (javac on the command line runs the same one: the
attack is real), a request past its deadline kills it and the next request gets a new JVM,
and no reply bytes make the client raise anything but its own error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesynth.sandbox import _javac_service as service
from tests.sandbox.test_languages import needs

PROCESSOR = """import java.util.Set;
import javax.annotation.processing.*;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.TypeElement;
@SupportedAnnotationTypes("*")
public class Evil extends AbstractProcessor {
  @Override public synchronized void init(ProcessingEnvironment env) {
    try { java.nio.file.Files.writeString(java.nio.file.Path.of("MARKER"), "ran"); }
    catch (Exception e) { throw new RuntimeException(e); }
  }
  @Override public SourceVersion getSupportedSourceVersion() { return SourceVersion.latest(); }
  @Override public boolean process(Set<? extends TypeElement> a, RoundEnvironment r) {
    return false;
  }
}
"""
USER = "@Deprecated public class Main { public static void main(String[] a) {} }\n"


def test_an_annotation_processor_on_the_class_path_is_not_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    needs("java")
    marker = Path(service.SOURCE).parent / "MARKER"
    processors = tmp_path / "processors"
    (processors / "META-INF" / "services").mkdir(parents=True)
    (tmp_path / "Evil.java").write_text(PROCESSOR)
    subprocess.run(["javac", "-d", str(processors), str(tmp_path / "Evil.java")], check=True,
                   timeout=120)
    (processors / "META-INF" / "services" / "javax.annotation.processing.Processor"
     ).write_text("Evil\n")
    (tmp_path / "Main.java").write_text(USER)
    # The control: javac as people run it finds and runs it.
    subprocess.run(["javac", "-cp", str(processors), "-d", str(tmp_path / "out"), "Main.java"],
                   cwd=tmp_path, check=True, timeout=120)
    assert (tmp_path / "MARKER").read_text() == "ran"
    # The service, with the processor on its own class path and in its working directory.
    monkeypatch.setattr(service, "_FLAGS", (*service._FLAGS, "-cp", str(processors)))
    client = service.JavacService()
    try:
        answer = client.compile([], {"Main.java": USER}, 60)
    finally:
        client.stop()
    assert isinstance(answer, service.Compiled) and set(answer.classes) == {"Main"}
    assert not marker.exists() and not Path("/MARKER").exists()


def test_a_request_past_its_deadline_restarts_the_service() -> None:
    needs("java")
    body = "\n".join(f"  static int f{i}(int x) {{ return x * {i} + (x ^ {i}); }}"
                     for i in range(3000))
    client = service.JavacService()
    try:
        assert isinstance(client.compile([], {"Main.java": "class Main {}"}, 60),
                          service.Compiled)
        first = client.process
        answer = client.compile([], {"Main.java": f"class Main {{\n{body}\n}}"}, 0.01)
        assert answer == service.Timeout(0.01) and client.process is None
        assert first is not None and first.poll() is not None  # killed
        again = client.compile([], {"Other.java": "class Other { Main m; }"}, 60)
        assert isinstance(again, service.Rejected) and "cannot find symbol" in again.output
        assert client.starts == 2
    finally:
        client.stop()


@given(st.binary(max_size=64) | st.builds(lambda kind, rest: kind.to_bytes(4, "big") + rest,
                                         st.integers(0, 3), st.binary(max_size=64)))
def test_no_reply_makes_the_client_raise_anything_but_its_own_error(data: bytes) -> None:
    try:
        answer = service.decode(data)
    except service._Broken:
        return
    assert isinstance(answer, (service.Compiled, service.Rejected, service.Failed))
