"""The fleet's summary: fleet.json (one row per site), fleet.csv (the same, for spreadsheets) and
dashboard.html (self-contained: sortable, filterable by tag, with each site's trend from the
history database when the fleet records one)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, select_autoescape

from ..redact import escape_controls
from ..report.csv import neutralise

COLUMNS = ("index", "url", "tags", "verdict", "violations", "warnings", "infos", "states_missing", "complete",
           "exit_code", "error", "duration_s", "started_at", "finished_at", "report")
TREND_SCANS = 12
VERDICT_ORDER = {"violations": 0, "incomplete": 1, "warnings": 2, "pass": 3, None: 4}


def fleet_exit_code(results: list[dict]) -> int:
    """3 when a site could not be scanned whole (or not at all), else 1 when a site's gate failed, else 0."""
    if any(r["exit_code"] not in (0, 1) or not r["complete"] for r in results):
        return 3
    return 1 if any(r["exit_code"] == 1 for r in results) else 0


def trends(results: list[dict], store) -> dict[str, list[int]]:
    """site -> violations of its last recorded scans, oldest first (empty without a history store)."""
    if store is None:
        return {}
    out = {}
    for row in results:
        site = row.get("site")
        if site and site not in out:
            out[site] = [t["violations"] for t in reversed(store.trend(site, TREND_SCANS))]
    return out


def sparkline(values: list[int], width: int = 120, height: int = 28) -> str:
    """An inline SVG polyline of the values (numbers only: nothing from the site)."""
    if len(values) < 2:
        return ""
    top = max(max(values), 1)
    step = width / (len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 3 - (v / top) * (height - 6):.1f}" for i, v in enumerate(values))
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="violations in the last {len(values)} scans: {", ".join(map(str, values))}">'
            f'<polyline fill="none" stroke="currentColor" stroke-width="2" points="{points}"/></svg>')


def write_summary(results: list[dict], out: Path, *, store=None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    from ..report import atomic_write
    data = {"generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "sites": results,
            "exit_code": fleet_exit_code(results)}
    written = [atomic_write(out / "fleet.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in results:
        cells = []
        for column in COLUMNS:
            value = row.get(column)
            if isinstance(value, dict):
                value = "; ".join(f"{k}={v}" for k, v in value.items())
            elif isinstance(value, list):
                value = "; ".join(map(str, value))
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            cells.append(neutralise(escape_controls("" if value is None else str(value), keep="")))
        writer.writerow(cells)
    written.append(atomic_write(out / "fleet.csv", "\ufeff" + buffer.getvalue()))
    lines = trends(results, store)
    tags = sorted({f"{k}={v}" for r in results for k, v in (r.get("tags") or {}).items()})
    rows = sorted(results, key=lambda r: (VERDICT_ORDER.get(r.get("verdict"), 4), -(r.get("violations") or 0), r["index"]))
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(TEMPLATE).render(
        rows=rows, tags=tags, generated=data["generated_at"], sparks={k: sparkline(v) for k, v in lines.items()},
        trend=bool(lines), total=len(results),
        failing=sum(1 for r in results if r.get("verdict") == "violations"),
        incomplete=sum(1 for r in results if not r.get("complete")))
    written.append(atomic_write(out / "dashboard.html", html))
    return written


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>Cookie compliance portfolio</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
header{background:#fff;border-bottom:1px solid #dde1e6;padding:18px 24px}
h1{margin:0 0 4px;font-size:22px} .muted{color:#5b6570}
main{padding:16px 24px} .controls{margin:0 0 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e6}
th,td{padding:8px 10px;border-bottom:1px solid #eceff2;text-align:left;vertical-align:middle}
th{background:#f0f2f5;font-weight:600;white-space:nowrap}
th button{all:unset;cursor:pointer} th button:focus-visible{outline:2px solid #1f6feb}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.v-violations{background:#fde2e1;color:#8c1c13}.v-warnings{background:#fff1d6;color:#7a4b00}
.v-pass{background:#ddf4e4;color:#0f5a2a}.v-incomplete,.v-none{background:#e8eaed;color:#3c4043}
.tag{display:inline-block;background:#eef2ff;color:#2b3a8c;border-radius:4px;padding:0 6px;margin:1px;font-size:12px}
.spark{color:#b3261e;vertical-align:middle} .err{color:#8c1c13;font-size:12px}
</style></head><body>
<header><h1>Cookie compliance portfolio</h1>
<div class="muted">{{ total }} site(s) · {{ failing }} with violations · {{ incomplete }} not scanned whole · generated {{ generated }}</div></header>
<main>
<div class="controls"><label>Tag <select id="tag"><option value="">all sites</option>{% for t in tags %}<option>{{ t }}</option>{% endfor %}</select></label>
<span class="muted" id="shown"></span></div>
<table id="sites"><thead><tr>
<th><button data-key="site">Site</button></th><th>Tags</th><th><button data-key="verdict">Verdict</button></th>
<th><button data-key="v" data-num="1">Violations</button></th><th><button data-key="w" data-num="1">Warnings</button></th>
<th><button data-key="i" data-num="1">Info</button></th><th>States not reached</th>{% if trend %}<th>Trend (violations)</th>{% endif %}
<th><button data-key="last">Last scan (UTC)</button></th></tr></thead><tbody>
{% for r in rows %}<tr data-site="{{ r.url }}" data-verdict="{{ r.verdict or 'none' }}" data-v="{{ r.violations if r.violations is not none else -1 }}" data-w="{{ r.warnings if r.warnings is not none else -1 }}" data-i="{{ r.infos if r.infos is not none else -1 }}" data-last="{{ r.finished_at or '' }}" data-tags="{% for k, v in (r.tags or {}).items() %}|{{ k }}={{ v }}{% endfor %}|">
<td>{% if r.report %}<a href="{{ r.report }}">{{ r.url }}</a>{% else %}{{ r.url }}{% endif %}{% if r.error %}<div class="err">{{ r.error }}</div>{% endif %}</td>
<td>{% for k, v in (r.tags or {}).items() %}<span class="tag">{{ k }}={{ v }}</span>{% endfor %}</td>
<td><span class="badge v-{{ r.verdict or 'none' }}">{{ r.verdict or 'no report' }}</span></td>
<td class="num">{{ r.violations if r.violations is not none else '—' }}</td><td class="num">{{ r.warnings if r.warnings is not none else '—' }}</td>
<td class="num">{{ r.infos if r.infos is not none else '—' }}</td><td>{{ r.states_missing|join(', ') or '—' }}</td>
{% if trend %}<td>{{ sparks.get(r.site, '')|safe }}</td>{% endif %}<td>{{ r.finished_at or '—' }}</td></tr>
{% endfor %}</tbody></table>
</main>
<script>
(function () {
  var body = document.querySelector('#sites tbody'), select = document.getElementById('tag'), shown = document.getElementById('shown');
  function filter() {
    var tag = select.value, n = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var on = !tag || row.dataset.tags.indexOf('|' + tag + '|') >= 0;
      row.hidden = !on; if (on) n++;
    });
    shown.textContent = n + ' shown';
  }
  var direction = {};
  document.querySelectorAll('th button').forEach(function (button) {
    button.addEventListener('click', function () {
      var key = button.dataset.key, num = !!button.dataset.num, dir = direction[key] = direction[key] === 1 ? -1 : 1;
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.dataset[key], y = b.dataset[key];
        if (num) { x = Number(x); y = Number(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  select.addEventListener('change', filter);
  filter();
})();
</script>
</body></html>
"""
