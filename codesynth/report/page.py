"""Assemble the report page: blocks of charts and tables, then the browsable records, into
one self-contained HTML document (plotly.js, styles and data inlined)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from codesynth.report.charts import Chart


@dataclass
class Table:
    head: list[str]
    rows: Sequence[Sequence[tuple[str, str | None]]]  # (text, data-key or None) per cell
    numeric: set[int] = field(default_factory=set)


@dataclass
class Block:
    id: str
    title: str
    note: str = ""
    chart: Chart | None = None
    table: Table | None = None

    @classmethod
    def of(cls, chart: Chart, table: Table | None = None) -> Block:
        return cls(f"block-{chart.id}", chart.title, chart.note, chart, table)


@dataclass
class Page:
    title: str
    subtitle: str
    facts: list[tuple[str, str, str | None]]  # (label, value, data-key)
    groups: list[list[Block]]
    records: list[dict[str, Any]]
    records_note: str
    notices: list[str] = field(default_factory=list)


def safe_json(value: Any) -> str:
    """JSON that cannot end the <script> element holding it."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _inline_js(code: str) -> str:
    """Script text that cannot close its <script> element early."""
    return code.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


@cache
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="hl")


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(cssclass="hl", style="default").get_style_defs(".hl")
    dark = HtmlFormatter(cssclass="hl", style="monokai").get_style_defs(".hl")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}"


def highlight(text: str, language: str) -> str:
    from pygments import highlight as pyg_highlight
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    return str(pyg_highlight(text, lexer, _formatter()))


def render(page: Page) -> str:
    import jinja2
    import plotly.io
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    from codesynth import __version__
    from codesynth.report._template import PAGE

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["safe_json"] = lambda v: jinja2.utils.markupsafe.Markup(safe_json(v))
    records = [{**r, "parts": [(label, highlight(text, language))
                               for label, language, text in r["sections"]]}
               for r in page.records]
    dark = plotly.io.templates["plotly_dark"].to_plotly_json()
    return environment.from_string(PAGE).render(
        title=page.title, subtitle=page.subtitle, facts=page.facts, groups=page.groups,
        notices=page.notices, records=records, records_note=page.records_note,
        sources=sorted({r["source"] for r in page.records}),
        outcomes=sorted({r["outcome"] for r in page.records}),
        pygments_css=jinja2.utils.markupsafe.Markup(pygments_css()),
        plotly_js=jinja2.utils.markupsafe.Markup(_inline_js(get_plotlyjs())),
        plotly_version=get_plotlyjs_version(), dark_template=dark, version=__version__,
        made=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
