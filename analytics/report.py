"""Self-contained HTML reports: one page with text, tables and plots (PNG embedded as base64, and
also saved beside the page), written atomically by :func:`cltk.analytics.result.write_result`,
the one writer of every cltk command."""
from __future__ import annotations

import base64
import contextlib
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # reports are written headless
import matplotlib.pyplot as plt

from cltk.files import atomic_write_bytes, atomic_write_text, safe_file_name

#: marks every report written through the one writer (tests look for it)
GENERATOR = "cltk write_result"

# a wide table scrolls inside its own box (never the page), and figures shrink to the page width
_CSS = """body{font-family:system-ui,sans-serif;max-width:1240px;margin:2em auto;padding:0 1em;color:#222}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:1em 0;font-size:14px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}th{background:#f3f3f3}
td:first-child,th:first-child,.l{text-align:left}img{max-width:100%;height:auto}figure{margin:1em 0}
code,pre{background:#f6f6f6;padding:2px 4px}pre{white-space:pre-wrap;overflow-wrap:anywhere}
.miss{color:#b00000;font-weight:600}.ok{color:#1a7f37}.warn{color:#9a6700;font-weight:600}
details{margin:1em 0}summary{cursor:pointer;font-weight:600}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em}"""


@dataclass(frozen=True)
class Cell:
    """A table cell with a CSS class of :data:`_CSS` (``miss``, ``ok``, ``warn``): a mark a reader
    must see (a final loss outside its interval) is coloured as well as written."""

    text: str
    css: str = ""


def _plain_text(fig) -> None:
    """Titles, labels, legends and annotations carry users' curve and file names verbatim: "$x$" in
    a name is text, not TeX to typeset. Tick labels (and the axis offset) are left to matplotlib,
    whose log axes write them as math ("10^-1")."""
    from matplotlib.text import Text

    ticks = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks.add(id(axis.offsetText))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update((id(tick.label1), id(tick.label2)))
    for t in fig.findobj(Text):
        if id(t) not in ticks:
            t.set_parse_math(False)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return html.escape(str(v))


def _is_text(v) -> bool:
    """A value that reads as words (a name, a role), not as a number or an interval of numbers."""
    if isinstance(v, Cell):
        v = v.text
    return isinstance(v, str) and bool(v) and not _NUMERIC.match(v)


_NUMERIC = re.compile(r"^[\s\[\](),+\-.0-9eE%]*$")


def _cell(v, left: bool) -> str:
    css = " ".join(filter(None, [v.css if isinstance(v, Cell) else "", "l" if left else ""]))
    cls = f' class="{html.escape(css)}"' if css else ""
    return f"<td{cls}>{html.escape(v.text) if isinstance(v, Cell) else _fmt(v)}</td>"


class Report:
    """Build a report section by section, then ``write(out_dir)`` -> ``out_dir/report.html``."""

    def __init__(self, title: str):
        self.title = title
        self._parts: list[str] = []
        self._pngs: dict[str, bytes] = {}

    def heading(self, text: str) -> Report:
        self._parts.append(f"<h2>{html.escape(text)}</h2>")
        return self

    def text(self, text: str, css: str = "") -> Report:
        """A paragraph; ``css`` a class of :data:`_CSS` (``warn`` for a warning)."""
        cls = f' class="{html.escape(css)}"' if css else ""
        self._parts.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    @contextlib.contextmanager
    def details(self, summary: str):
        """Everything added inside the ``with`` block goes into a collapsed ``<details>`` section."""
        self._parts.append(f"<details><summary>{html.escape(summary)}</summary>")
        try:
            yield self
        finally:
            self._parts.append("</details>")

    def link(self, href: str, text: str) -> Report:
        """A paragraph that links a file beside the report (relative ``href``)."""
        self._parts.append(f'<p><a href="{html.escape(href)}">{html.escape(text)}</a></p>')
        return self

    def code(self, text: str) -> Report:
        self._parts.append(f"<pre>{html.escape(text)}</pre>")
        return self

    def table(self, rows: list[dict], columns: list[str] | None = None) -> Report:
        """A table from a list of dicts (or a pandas DataFrame's ``to_dict('records')``); a value may
        be a :class:`Cell`. A table wider than the page scrolls in its own box."""
        if not rows:
            return self
        columns = columns or list(rows[0])
        # columns of words read left-aligned, numbers right-aligned
        left = {c: all(_is_text(r.get(c, "")) or r.get(c, "") in ("", None) for r in rows)
                and any(_is_text(r.get(c, "")) for r in rows) for c in columns}
        head = "".join(("<th class='l'>" if left[c] else "<th>") + f"{html.escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(_cell(r.get(c, ""), left[c]) for c in columns) + "</tr>" for r in rows)
        self._parts.append(f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>')
        return self

    def figure(self, fig, name: str, caption: str = "") -> Report:
        """Embed a matplotlib figure (and save it as ``name``.png beside the report); closes it."""
        _plain_text(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = buf.getvalue()
        self._pngs[f"{safe_file_name(name)}.png"] = data
        b64 = base64.b64encode(data).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{b64}">{cap}</figure>')
        return self

    def html(self) -> str:
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<meta name='generator' content='{GENERATOR}'><style>{_CSS}</style></head>"
                f"<body><h1>{html.escape(self.title)}</h1>"
                + "\n".join(self._parts) + "</body></html>\n")

    def _write(self, out_dir: str | Path) -> Path:
        """Called by :func:`cltk.analytics.result.write_result` only: jobs return a Result."""
        out_dir = Path(out_dir)
        for name, data in self._pngs.items():
            atomic_write_bytes(out_dir / name, data)
        return atomic_write_text(out_dir / "report.html", self.html())
