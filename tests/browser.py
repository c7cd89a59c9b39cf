"""Headless Chromium (Debian's ``chromium``) for the report tests: the DOM after the page's
scripts ran, a screenshot, and what the charts drew, read from that DOM."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

BUDGET_MS = 15000  # virtual time the page gets to run its scripts


def _find() -> str | None:
    return next((p for n in ("chromium", "chromium-browser", "google-chrome")
                 if (p := shutil.which(n))), None)


# Browser tests skip, saying why, only where chromium is missing outside CI; under CI=1 they
# run, and a missing browser fails them.
needs_chromium = pytest.mark.skipif(
    _find() is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install -y chromium): the report's browser "
           "tests need it")


def chromium() -> str:
    """The browser, or a skip that says why (a failure under CI=1: there it must run)."""
    found = _find()
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (apt-get install -y chromium); under CI=1 the "
                    "browser tests must run")
    pytest.skip("chromium is not installed (apt-get install -y chromium): the report's "
                "browser tests need it")


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--disable-extensions", "--hide-scrollbars",
               # no network: the page must draw from what it holds
               "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
               f"--virtual-time-budget={BUDGET_MS}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, "HOME": os.environ.get(
                              "HOME", "/tmp")})


def dump_dom(page: Path, dark: bool = False) -> str:
    extra = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    done = _run(*extra, "--dump-dom", page.resolve().as_uri())
    assert done.returncode == 0 and "</html>" in done.stdout, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, target: Path, width: int = 1280, height: int = 2000,
               dark: bool = False) -> None:
    extra = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    done = _run(*extra, f"--window-size={width},{height}", f"--screenshot={target}",
                page.resolve().as_uri())
    assert done.returncode == 0 and target.exists(), done.stderr[-2000:]


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> list[Node]:
        found = [self]
        for child in self.children:
            found += child.walk()
        return found

    def content(self) -> str:
        return self.text + "".join(c.content() for c in self.children)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(Node("#text", {}, text=data))


def parse(html: str) -> Node:
    tree = _Tree()
    tree.feed(html)
    return tree.root


def by_id(root: Node, ident: str) -> Node:
    for node in root.walk():
        if node.attrs.get("id") == ident:
            return node
    raise AssertionError(f"no element #{ident} in the page")


def keyed(root: Node) -> dict[str, str]:
    """Every number the page shows under a data-key, as text."""
    return {n.attrs["data-key"]: n.content().strip() for n in root.walk()
            if "data-key" in n.attrs}


RECT = re.compile(r"^M([\d.e-]+),([\d.e-]+)V([\d.e-]+)H([\d.e-]+)V[\d.e-]+Z$")


def bars(chart: Node, trace: int | None = None) -> list[tuple[float, float]]:
    """The bars Plotly drew in a chart (of its ``trace``-th bar trace, or all), each as the
    (width, height) in pixels of its SVG rectangle; empty rectangles are not bars."""
    drawn = []
    traces = [n for n in chart.walk() if n.tag == "g" and {"trace", "bars"} <= n.classes()]
    for number, group in enumerate(traces):
        if trace is not None and number != trace:
            continue
        for point in group.walk():
            if point.tag != "g" or "point" not in point.classes():
                continue
            for path in (c for c in point.children if c.tag == "path"):
                match = RECT.match(path.attrs.get("d", ""))
                if match:
                    x0, y0, y1, x1 = (float(v) for v in match.groups())
                    if abs(x1 - x0) * abs(y1 - y0) > 0.5:
                        drawn.append((abs(x1 - x0), abs(y1 - y0)))
    return drawn


def bar_labels(chart: Node) -> list[str]:
    return [n.content().strip() for n in chart.walk()
            if n.tag == "text" and "bartext" in n.classes()]
