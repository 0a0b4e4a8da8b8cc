"""Self-contained HTML reports: one page with text, tables and plots (PNG embedded as base64, and
also saved beside the page), written atomically by :func:`cltk.analytics.result.write_result`,
the one writer of every cltk command."""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # reports are written headless
import matplotlib.pyplot as plt

from cltk.files import atomic_write_bytes, atomic_write_text, safe_file_name

# labels carry users' curve and file names verbatim: "$x$" in a name is text, not TeX to typeset
matplotlib.rcParams["text.parse_math"] = False

#: marks every report written through the one writer (tests look for it)
GENERATOR = "cltk write_result"

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}
code,pre{background:#f6f6f6;padding:2px 4px}pre{white-space:pre-wrap;overflow-wrap:anywhere}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em}"""


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return html.escape(str(v))


class Report:
    """Build a report section by section, then ``write(out_dir)`` -> ``out_dir/report.html``."""

    def __init__(self, title: str):
        self.title = title
        self._parts: list[str] = []
        self._pngs: dict[str, bytes] = {}

    def heading(self, text: str) -> Report:
        self._parts.append(f"<h2>{html.escape(text)}</h2>")
        return self

    def text(self, text: str) -> Report:
        self._parts.append(f"<p>{html.escape(text)}</p>")
        return self

    def link(self, href: str, text: str) -> Report:
        """A paragraph that links a file beside the report (relative ``href``)."""
        self._parts.append(f'<p><a href="{html.escape(href)}">{html.escape(text)}</a></p>')
        return self

    def code(self, text: str) -> Report:
        self._parts.append(f"<pre>{html.escape(text)}</pre>")
        return self

    def table(self, rows: list[dict], columns: list[str] | None = None) -> Report:
        """A table from a list of dicts (or a pandas DataFrame's ``to_dict('records')``)."""
        if not rows:
            return self
        columns = columns or list(rows[0])
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
        self._parts.append(f"<table><tr>{head}</tr>{body}</table>")
        return self

    def figure(self, fig, name: str, caption: str = "") -> Report:
        """Embed a matplotlib figure (and save it as ``name``.png beside the report); closes it."""
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
