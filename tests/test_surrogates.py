"""Lone surrogates (valid JSON escapes with no UTF-8 form) from a program's exception or a
model's reply never stop a run: they are replaced where the text enters, and every writer
can hold whatever record it is given."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from codesynth.jsonl import json_line
from codesynth.llm import LLM, LLMConfig
from codesynth.pipeline.state import StageFile
from codesynth.records import scrub
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.openai_server import ScriptedServer, fixed

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@given(json_values)
def test_scrubbed_values_always_encode_and_keep_valid_text(value: object) -> None:
    clean = scrub(value)
    json.dumps(clean, ensure_ascii=False).encode("utf-8")
    if isinstance(value, str) and not any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        assert clean == value  # valid text is left alone


@given(json_values)
def test_a_json_line_round_trips_through_a_utf8_file(value: object) -> None:
    line = json_line({"id": "x", "value": value})
    assert json.loads(line.encode("utf-8").decode("utf-8"))["value"] == value


def test_a_program_raising_a_lone_surrogate_gets_a_verdict_that_any_file_can_hold(
        sandbox: Sandbox, tmp_path: Path) -> None:
    result = sandbox.run(job("def f():\n    raise ValueError('\\ud800')\n", "assert f() == 1"))
    assert result.status.value == "failed"
    record = {"id": "c1", "result": result.to_dict()}
    json.dumps(record, ensure_ascii=False).encode("utf-8")  # no lone surrogate left
    assert "\ufffd" in json.dumps(record, ensure_ascii=False)
    stage = StageFile(tmp_path / "stage.jsonl")
    stage.write({"id": "raw", "text": "\ud800 from elsewhere"})  # writers hold them too
    stage.close()
    assert [r["id"] for r in StageFile(tmp_path / "stage.jsonl").read()] == ["raw"]


def test_a_model_reply_with_a_lone_surrogate_is_clean_text() -> None:
    with ScriptedServer(fixed("def f():\n    return '\ud800'")) as server:
        async def go() -> str:
            llm = LLM(LLMConfig(cache=None, model="m"), server.base_url)
            try:
                return (await llm.chat([{"role": "user", "content": "hi"}])).text
            finally:
                await llm.close()

        text = asyncio.run(go())
    assert text == "def f():\n    return '\ufffd'"
