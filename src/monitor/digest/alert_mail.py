"""An alert message: one or several alerts (a batch) as a short e-mail, text and HTML. Pure.

Each alert shows its headline, why it alerted (the threshold met), its theme, the first report, the report that
crossed the threshold, every outlet with its time, and the evidence. The HTML is a table layout with inline
styles and no images or SVG, as the weekly digest's, so that the mail clients it was checked in show it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..storage.alerts import AlertRow
from .stories import safe_link

KIND = {"event": "Breaking", "follow_up": "Follow-up", "spike": "Spike"}


def subject(alerts: Sequence[AlertRow], subscription: str) -> str:
    first = alerts[0]
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    label = first.detail.get("label", first.theme)
    return " ".join(f"[{subscription}] {KIND.get(first.kind, first.kind)}: {label}: {first.headline}{more}".split())


def _when(moment: str | datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return f"{value.astimezone(zone):%a %d %b %H:%M}"


def text(alerts: Sequence[AlertRow], timezone: str, held: int = 0, capped: int = 0) -> str:
    zone = ZoneInfo(timezone)
    out: list[str] = []
    for n, alert in enumerate(alerts, start=1):
        d = alert.detail
        out += [f"{n}. {KIND.get(alert.kind, alert.kind).upper()}: {alert.headline}", ""]
        out.append(f"   Theme: {d.get('label', alert.theme)}")
        out.append(f"   Why: {alert.reason}")
        if d.get("first"):
            first = d["first"]
            out.append(f"   First report: {first['outlet']}, {_when(first['published'], zone)}: {first['title']}")
            if first.get("link"):
                out.append(f"   {first['link']}")
        if d.get("crossing") and d["crossing"] != d.get("first"):
            c = d["crossing"]
            out.append(f"   Crossed the threshold: {c['outlet']}, {_when(c['published'], zone)}")
        for r in d.get("reports", ()):
            out.append(f"   - {_when(r['published'], zone)}  {r['outlet']}: {r['title']}")
        if d.get("more"):
            out.append(f"   ... and {d['more']} more reports")
        for e in d.get("evidence", ()):
            out.append(f"   Evidence: {e['name']}: \u201c{e['quote']}\u201d")
        out.append("")
    out += _footer(timezone, held, capped)
    return "\n".join(out).rstrip() + "\n"


def _footer(timezone: str, held: int, capped: int) -> list[str]:
    notes = [f"Times are {timezone}."]
    if held:
        notes.append(f"{held} of these were held by quiet hours and are sent now.")
    if capped:
        notes.append(f"{capped} more alerts today were not sent: max_per_day was reached (monitor alerts lists them).")
    return ["-- ", *notes]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def page(alerts: Sequence[AlertRow], timezone: str, held: int = 0, capped: int = 0) -> str:
    zone = ZoneInfo(timezone)
    rows: list[str] = []
    for alert in alerts:
        d = alert.detail
        link = d.get("link") if safe_link(d.get("link")) else None
        title = f'<a href="{_e(link)}" style="color:#1a4d8f">{_e(alert.headline)}</a>' if link else _e(alert.headline)
        rows.append(
            '<tr><td style="padding:12px 0;border-bottom:1px solid #ddd">'
            f'<div style="font:bold 12px Arial,sans-serif;color:#b03a2e">{_e(KIND.get(alert.kind, alert.kind).upper())}'
            f" &middot; {_e(d.get('label', alert.theme))}</div>"
            f'<div style="font:bold 17px Georgia,serif;margin:4px 0">{title}</div>'
            f'<div style="font:13px Arial,sans-serif;color:#444">Why: {_e(alert.reason)}</div>'
        )
        if d.get("first"):
            first = d["first"]
            rows.append(
                f'<div style="font:13px Arial,sans-serif;margin-top:6px">First report: {_e(first["outlet"])}, '
                f"{_e(_when(first['published'], zone))}</div>"
            )
        if d.get("crossing") and d["crossing"] != d.get("first"):
            c = d["crossing"]
            rows.append(
                f'<div style="font:13px Arial,sans-serif">Crossed the threshold: {_e(c["outlet"])}, '
                f"{_e(_when(c['published'], zone))}</div>"
            )
        reports = d.get("reports", ())
        if reports:
            rows.append('<table role="presentation" style="font:13px Arial,sans-serif;margin-top:6px">')
            for r in reports:
                name = _e(r["title"])
                if safe_link(r.get("link")):
                    name = f'<a href="{_e(r["link"])}" style="color:#1a4d8f">{name}</a>'
                rows.append(
                    '<tr><td style="padding:2px 8px 2px 0;white-space:nowrap;color:#666">'
                    f"{_e(_when(r['published'], zone))}"
                    f'</td><td style="padding:2px 8px 2px 0">{_e(r["outlet"])}</td><td>{name}</td></tr>'
                )
            rows.append("</table>")
            if d.get("more"):
                rows.append(f'<div style="font:13px Arial,sans-serif">and {_e(d["more"])} more reports</div>')
        for e in d.get("evidence", ()):
            rows.append(
                f'<div style="font:12px Arial,sans-serif;color:#555;margin-top:4px">Evidence: {_e(e["name"])}: '
                f'<span style="background:#fff3cd">{_e(e["quote"])}</span></div>'
            )
        rows.append("</td></tr>")
    footer = " ".join(_footer(timezone, held, capped)[1:])
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
        f"{_e(subject(alerts, alerts[0].subscription))}</title></head>"
        '<body style="margin:0;padding:16px;background:#fff">'
        '<table role="presentation" width="100%" style="max-width:680px;border-collapse:collapse">'
        + "".join(rows)
        + f'<tr><td style="padding-top:12px;font:12px Arial,sans-serif;color:#666">{_e(footer)}</td></tr>'
        "</table></body></html>\n"
    )
