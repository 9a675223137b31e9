"""A stable colour for every code, told apart even when a project holds 50+ codes.

Colours live in ``codes.colour``: a codebook's own colour wins; a code without one
gets one the first time it is assigned (``assign_missing``) and keeps it, so a code
looks the same in every widget, report and export, whatever codes come later.

How colours are chosen:

- Top-level codes take colours from ``palette()``: candidates over hue, saturation and
  lightness, picked greedily so that each is as far as possible (CIELAB ΔE) from the
  ones before it and from the white page, so stripes and highlights stay visible.
  A new top-level code takes the palette colour farthest from every colour in use.
- A child code is a shade of its parent: the parent's hue, lighter or darker by its
  place among its siblings, so a code family reads as one colour.

>>> palette(3)
('#2323e7', '#23e723', '#e72323')
>>> shade("#1f77b4", 0), shade("#1f77b4", 1)
('#3d9cde', '#185a88')
"""

from __future__ import annotations

import colorsys
import re
from functools import lru_cache
from typing import Iterable

import sqlalchemy as sa

from . import store
from .errors import InputError, NotFoundError

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# Lightness steps for the n-th child of a code: alternately lighter and darker.
_SHADE_STEPS = (0.14, -0.10, 0.24, -0.18, 0.32, 0.07, -0.05, 0.19)
_WHITE = (100.0, 0.0, 0.0)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


@lru_cache(maxsize=4096)  # loading a codebook asks for the same palette colours thousands of times
def lab(colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) coordinates of a ``#rrggbb`` colour, where distance tracks what eyes see.

    >>> [round(v) for v in lab("#ffffff")]
    [100, 0, 0]
    """
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def distance(a: str, b: str) -> float:
    """ΔE (CIE76) between two colours: about 2 is just noticeable, above 10 clearly different."""
    return _delta(lab(a), lab(b))


def _delta(p: tuple[float, float, float], q: tuple[float, float, float]) -> float:
    # Written out rather than sum() over a generator (auto-coding a fresh project loads
    # codebooks, and this ran ten thousand times there); the same additions in the same
    # order, so the same float: 0 + a is a.
    return ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2) ** 0.5


@lru_cache(maxsize=None)
def _candidates() -> tuple[tuple[str, tuple[float, float, float]], ...]:
    out = []
    for hue in range(0, 360, 6):
        for light in (0.32, 0.42, 0.52, 0.62):
            for sat in (0.55, 0.8):
                colour = _hex(colorsys.hls_to_rgb(hue / 360, light, sat))
                out.append((colour, lab(colour)))
    return tuple(out)


@lru_cache(maxsize=None)
def palette(n: int = 64) -> tuple[str, ...]:
    """``n`` colours, each chosen as far as possible from the earlier ones and from white."""
    chosen: list[str] = []
    nearest = {colour: _delta(point, _WHITE) for colour, point in _candidates()}
    points = dict(_candidates())
    while len(chosen) < n and nearest:
        best = max(nearest, key=lambda c: nearest[c])  # ties: candidate order, so stable
        chosen.append(best)
        del nearest[best]
        for colour in nearest:
            nearest[colour] = min(nearest[colour], _delta(points[colour], points[best]))
    return tuple(chosen)


def next_colour(in_use: Iterable[str]) -> str:
    """The palette colour farthest from every colour already in use."""
    used = [lab(c) for c in in_use if isinstance(c, str) and HEX.match(c)]
    if not used:
        return palette()[0]
    best, farthest = "", -1.0
    for colour, (a, b, c) in _palette_labs():
        # _delta written inline (loading a codebook asks this thousands of times); the
        # first colour of the largest distance wins, as max() would pick it.
        nearest = min([((a - x) ** 2 + (b - y) ** 2 + (c - z) ** 2) ** 0.5 for x, y, z in used])
        if nearest > farthest:
            best, farthest = colour, nearest
    return best


@lru_cache(maxsize=None)
def _palette_labs() -> tuple[tuple[str, tuple[float, float, float]], ...]:
    return tuple((colour, lab(colour)) for colour in palette())


def shade(parent: str, index: int) -> str:
    """The ``index``-th child's colour: the parent's hue, lighter or darker.

    Past the listed steps the hue turns a little each round, so a code with many
    children still gives each its own colour.
    """
    h, light, sat = colorsys.rgb_to_hls(*_rgb(parent))
    step = _SHADE_STEPS[index % len(_SHADE_STEPS)]
    turn = (index // len(_SHADE_STEPS)) * 0.035
    light = min(0.85, max(0.18, light + step))
    return _hex(colorsys.hls_to_rgb((h + turn) % 1.0, light, sat))


def check_colour(colour: str, where: str) -> str:
    """``colour`` as lower-case ``#rrggbb``, or a clear error saying how to write one."""
    if not isinstance(colour, str) or not HEX.match(colour.strip()):
        raise InputError(where, f"{colour!r} is not a colour", "write a hex colour such as #1f77b4")
    return colour.strip().lower()


def assign_missing(conn: sa.Connection) -> dict[str, str]:
    """Give every code without a colour one (parents before children); return the new ones.

    Runs in the caller's transaction. Codes are visited in id order, so the same
    codebook loaded into two projects gets the same colours.
    """
    cd = store.codes
    rows = [dict(r._mapping) for r in conn.execute(sa.select(cd.c.id, cd.c.key, cd.c.parent_key, cd.c.colour)
                                                     .order_by(cd.c.id))]
    colour = {r["key"]: r["colour"] for r in rows if r["colour"]}
    children: dict[str | None, list[str]] = {}
    for r in rows:
        children.setdefault(r["parent_key"], []).append(r["key"])
    keys = {r["key"] for r in rows}
    new: dict[str, str] = {}

    def visit(key: str, parent: str | None) -> None:
        if key not in colour:
            if parent is not None and parent in colour:
                colour[key] = shade(colour[parent], children[parent].index(key))
            else:
                roots = [c for k, c in colour.items() if _root(k, rows_by_key) == k]
                colour[key] = next_colour(roots or colour.values())
            new[key] = colour[key]
        for child in children.get(key, []):
            visit(child, key)

    rows_by_key = {r["key"]: r for r in rows}
    for r in rows:
        if r["parent_key"] is None or r["parent_key"] not in keys:
            visit(r["key"], None)
    for r in rows:  # codes caught in a parent cycle (never valid, but never left grey)
        if r["key"] not in colour:
            visit(r["key"], None)
    if new:
        conn.execute(sa.update(cd).where(cd.c.key == sa.bindparam("b_key")).values(colour=sa.bindparam("b_colour")),
                     [{"b_key": k, "b_colour": c} for k, c in new.items()])
    return new


def _root(key: str, rows_by_key: dict[str, dict]) -> str:
    seen = set()
    while rows_by_key.get(key, {}).get("parent_key") in rows_by_key and key not in seen:
        seen.add(key)
        key = rows_by_key[key]["parent_key"]
    return key


def code_colours(project) -> dict[str, str]:
    """Every code's colour by key, assigning (and storing) any that are missing.

    >>> code_colours(project)["activity.group_supervision"]   # doctest: +SKIP
    '#2a8a57'
    """
    with project.transaction() as conn:
        assign_missing(conn)
        return dict(conn.execute(sa.select(store.codes.c.key, store.codes.c.colour)).all())


def set_colour(project, code: str, colour: str) -> str:
    """Give ``code`` a colour of the researcher's choosing (``#rrggbb``); returns it."""
    value = check_colour(colour, project.location)
    cd = store.codes
    with project.transaction() as conn:
        done = conn.execute(sa.update(cd).where(cd.c.key == code).values(colour=value, updated_at=store.now()))
        if done.rowcount == 0:
            raise NotFoundError(f"{project.location}: no code {code!r}. Fix: take the key from project.codes().")
    return value
