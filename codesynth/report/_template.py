"""The page: one HTML document, its styles and the glue that hands figures to plotly.js.

The glue only reads each figure's JSON and calls ``Plotly.newPlot`` (with Plotly's own dark
template when the reader prefers dark), and filters the record table as you type.
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="codesynth {{ version }}">
<title>{{ title }}</title>
<style>
:root { color-scheme: light dark; --fg: #1d1f23; --bg: #ffffff; --muted: #5f6670;
  --line: #d9dce1; --panel: #f6f7f9; --good: #1f7a35; --bad: #b42318; --accent: #2457c5; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #15171a; --muted: #a0a7b1;
  --line: #343a42; --panel: #1e2125; --good: #5cc26f; --bad: #ff7b72; --accent: #8ab4ff; } }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 60px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 0 0 2px; }
.sub, .note { color: var(--muted); } .note { font-size: .9em; margin: 0 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 8px; padding: 0; }
.facts li { list-style: none; background: var(--panel); border: 1px solid var(--line);
  border-radius: 8px; padding: 8px 14px; } .facts b { display: block; font-size: 1.3em; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px;
  margin: 16px 0; }
section.block { border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px;
  margin: 16px 0; background: var(--bg); min-width: 0; }
.grid section.block { margin: 0; }
.chart { width: 100%; min-height: 300px; }
table.data { border-collapse: collapse; width: 100%; font-size: .92em; }
table.data th, table.data td { text-align: left; padding: 4px 8px;
  border-bottom: 1px solid var(--line); vertical-align: top; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { max-height: 460px; overflow: auto; }
.kept, .passed { color: var(--good); } .rejected, .failed { color: var(--bad); }
.controls { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
.controls input, .controls select { font: inherit; color: var(--fg); background: var(--panel);
  border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; }
.controls input { flex: 1; min-width: 240px; }
#record-list { max-height: 900px; overflow: auto; }
details.rec { border-bottom: 1px solid var(--line); }
details.rec > summary { display: grid; cursor: pointer; padding: 5px 4px; gap: 10px;
  grid-template-columns: 130px 80px 190px 150px 1fr; align-items: baseline; }
details.rec > summary:hover { background: var(--panel); }
details.rec[hidden] { display: none; }
.rec .id { font-family: ui-monospace, monospace; font-size: .85em; color: var(--muted); }
.part { margin: 6px 0 12px 8px; } .part h3 { font-size: .85em; margin: 8px 0 2px;
  color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.hl pre, pre.plain { margin: 0; padding: 8px 10px; overflow: auto; max-height: 420px;
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap;
  overflow-wrap: anywhere; }
{{ pygments_css }}
</style>
<script>{{ plotly_js }}</script>
</head><body><main>
<h1>{{ title }}</h1>
<div class="sub">{{ subtitle }}</div>
<ul class="facts">{% for label, value, key in facts %}
<li>{{ label }}<b{% if key %} data-key="{{ key }}"{% endif %}>{{ value }}</b></li>{% endfor %}
</ul>
{% for notice in notices %}<p class="note">{{ notice }}</p>{% endfor %}
{% for group in groups %}<div class="{{ 'grid' if group|length > 1 else '' }}">
{% for block in group %}<section class="block" id="{{ block.id }}">
<h2>{{ block.title }}</h2>{% if block.note %}<p class="note">{{ block.note }}</p>{% endif %}
{% if block.chart %}<div class="chart" id="chart-{{ block.chart.id }}"></div>
<script type="application/json" class="figure" data-target="chart-{{ block.chart.id }}">
{{ block.chart.figure|safe_json }}</script>{% endif %}
{% if block.table %}<div class="scroll"><table class="data"><thead><tr>
{% for head in block.table.head %}
<th class="{{ 'num' if loop.index0 in block.table.numeric else '' }}">{{ head }}</th>
{% endfor %}
</tr></thead><tbody>{% for row in block.table.rows %}<tr>
{% for text, key in row %}
<td class="{{ 'num' if loop.index0 in block.table.numeric else '' }}"
{%- if key %} data-key="{{ key }}"{% endif %}>{{ text }}</td>{% endfor %}
</tr>{% endfor %}</tbody></table></div>{% endif %}
</section>{% endfor %}
</div>{% endfor %}
{% if records %}<section class="block" id="records">
<h2>Records</h2>
<p class="note" id="records-note">{{ records_note }}</p>
<div class="controls">
<input id="search" type="search" placeholder="search ids, instructions, code, traces">
<select id="source"><option value="">every source</option>{% for s in sources %}
<option>{{ s }}</option>{% endfor %}</select>
<select id="outcome"><option value="">every outcome</option>{% for s in outcomes %}
<option>{{ s }}</option>{% endfor %}</select>
<span class="note" id="shown"></span></div>
<div id="record-list">{% for r in records %}
<details class="rec" data-source="{{ r.source }}" data-outcome="{{ r.outcome }}">
<summary><span>{{ r.source }}</span><span class="{{ r.outcome }}">{{ r.outcome }}</span>
<span>{{ r.reason or r.status }}</span><span class="id">{{ r.id }}</span>
<span>{{ r.title }}</span></summary>
<div class="part">{% for label, body in r.parts %}
<h3>{{ label }}</h3>{{ body|safe }}{% endfor %}</div>
</details>{% endfor %}</div>
</section>{% endif %}
<p class="note">Made by codesynth {{ version }} on {{ made }}. This file is self-contained:
plotly.js {{ plotly_version }} and all data are inside it; it needs no network.</p>
</main>
<script>
(function () {
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var darkTemplate = {{ dark_template|safe_json }};
  document.querySelectorAll("script.figure").forEach(function (node) {
    var figure = JSON.parse(node.textContent);
    if (dark) { figure.layout.template = darkTemplate;
      figure.layout.paper_bgcolor = figure.layout.plot_bgcolor = "rgba(0,0,0,0)"; }
    Plotly.newPlot(node.dataset.target, figure.data, figure.layout,
                   {displaylogo: false, responsive: true, displayModeBar: false});
  });
  var list = document.getElementById("record-list");
  if (!list) { return; }
  var items = Array.prototype.slice.call(list.children);
  var text = items.map(function (item) { return item.textContent.toLowerCase(); });
  var search = document.getElementById("search"), source = document.getElementById("source"),
      outcome = document.getElementById("outcome"), shown = document.getElementById("shown");
  function apply() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean), count = 0;
    items.forEach(function (item, i) {
      var ok = (!source.value || item.dataset.source === source.value) &&
               (!outcome.value || item.dataset.outcome === outcome.value) &&
               words.every(function (w) { return text[i].indexOf(w) >= 0; });
      item.hidden = !ok; count += ok;
    });
    shown.textContent = count + " of " + items.length + " shown";
  }
  [search, source, outcome].forEach(function (el) { el.addEventListener("input", apply); });
  apply();
})();
</script>
</body></html>
"""
