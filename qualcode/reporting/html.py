"""The report as one self-contained HTML page (figures inlined, alt text on each)."""

from __future__ import annotations

import base64
import html

from .model import Block, Contents, Figure, Heading, Paragraph, QuoteBlock, Report, Table

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.45;color:#222}
.qc-report table{border-collapse:collapse;margin:.5rem 0 .5rem;font-size:.9rem}
.qc-report th,.qc-report td{border:1px solid #bbb;padding:.3rem .5rem;vertical-align:top;text-align:left;hyphens:none;word-break:normal;overflow-wrap:normal}
.qc-report th{background:#eef2f7}
.qc-report th.group{background:#f6f8fb;font-weight:600}
.qc-report .caption{font-weight:600;font-size:.9rem;margin-bottom:.2rem}
.qc-report .note{font-size:.85rem;color:#444;margin:0 0 1.5rem}
.qc-report .notice{border:2px solid #b00;padding:.5rem;color:#700}
.qc-report blockquote{margin:.6rem 1.5rem;font-style:italic;color:#333}
.qc-report blockquote cite{font-style:normal;color:#555}
.qc-report img{max-width:100%}
"""


def render_html(report: Report, full_page: bool = True) -> str:
    """The report as HTML: one self-contained page (figures inlined as data URIs)."""
    e = html.escape
    config = report.config
    parts = [f'<div class="qc-report"><h1>{e(report.title)}</h1>']
    if report.subtitle:
        parts.append(f"<p><em>{e(report.subtitle)}</em></p>")
    facts = [config.programme, config.organisation, config.byline(), config.date,
             f"Version {config.version}" if config.version else ""]
    if any(facts):
        parts.append("<p>" + "<br>".join(e(f) for f in facts if f) + "</p>")
    parts += [f'<p class="notice">{e(n)}</p>' for n in report.notices]
    for i, section in enumerate(report.sections):
        parts.append(f'<h2 id="s{i}">{e(section.title)}</h2>')
        for block in section.blocks:
            parts.append(_html_block(block, report))
    parts.append("</div>")
    body = "\n".join(parts)
    if not full_page:
        return f"<style>{_CSS}</style>{body}"
    return (f'<!DOCTYPE html>\n<html lang="{e(config.language)}"><head><meta charset="utf-8">'
            f"<title>{e(report.title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def _html_block(block: Block, report: Report) -> str:
    e = html.escape
    if isinstance(block, Heading):
        return f"<h3>{e(block.text)}</h3>"
    if isinstance(block, Paragraph):
        return f"<ul><li>{e(block.text)}</li></ul>" if block.style == "List Bullet" else f"<p>{e(block.text)}</p>"
    if isinstance(block, Contents):
        links = "".join(f'<li><a href="#s{i}">{e(s.title)}</a></li>' for i, s in enumerate(report.sections)
                        if s.key != "contents")
        return f"<ol>{links}</ol>"
    if isinstance(block, QuoteBlock):
        q = block.quote
        return f"<blockquote>'{e(q.shown)}' <cite>({e(q.attribution)})</cite></blockquote>"
    if isinstance(block, Table):
        head = "".join(f"<th>{e(c)}</th>" for c in block.frame.columns)
        groups = dict(block.groups)
        width = len(block.frame.columns)
        rows = []
        for i, values in enumerate(block.frame.itertuples(index=False)):
            if i in groups:
                rows.append(f'<tr><th class="group" colspan="{width}">{e(groups[i])}</th></tr>')
            rows.append("<tr>" + "".join(f"<td>{_html_cell(v)}</td>" for v in values) + "</tr>")
        note = f'<p class="note">{e(block.note)}</p>' if block.note else ""
        return (f'<p class="caption">Table {block.number}: {e(block.caption)}</p>'
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}")
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure><img alt="{e(block.alt)}" src="data:image/png;base64,{data}">'
                f'<figcaption class="caption">Figure {block.number}: {e(block.caption)}</figcaption></figure>')
    raise TypeError(f"unknown report block {type(block).__name__}")


def _html_cell(value: str) -> str:
    return "<br>".join(html.escape(line) for line in str(value).split("\n"))
