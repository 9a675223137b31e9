"""Code colours: many codes stay apart, children are shades of their parent, colours are
stored once and kept across codebook reloads, and can be edited."""

from __future__ import annotations

import colorsys
import itertools

import pytest

from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.colours import code_colours, distance, palette, set_colour
from qualcode.errors import InputError, NotFoundError
from evaluation_project import CODEBOOK


def test_sixty_palette_colours_are_clearly_different_and_visible_on_white():
    colours = palette(60)
    assert len(set(colours)) == 60
    assert min(distance(a, b) for a, b in itertools.combinations(colours, 2)) > 15  # ΔE76; ~2 is noticeable
    assert min(distance(c, "#ffffff") for c in colours) > 20


def _hue(colour):
    return colorsys.rgb_to_hls(*(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)))[0]


def test_loading_a_codebook_colours_every_code_children_as_shades(project):
    source = CODEBOOK.read_text(encoding="utf-8")
    load_into_project(project, parse_codebook(source, str(CODEBOOK)), source)
    codes = project.codes()
    assert codes["colour"].notna().all() and codes["colour"].str.match(r"^#[0-9a-f]{6}$").all()
    by_key = dict(zip(codes["key"], codes["colour"]))
    roots = codes[codes["parent_key"].isna()]["colour"].tolist()
    assert min(distance(a, b) for a, b in itertools.combinations(roots, 2)) > 15
    children = codes[codes["parent_key"].notna()]
    for key, parent in zip(children["key"], children["parent_key"]):
        assert abs(_hue(by_key[key]) - _hue(by_key[parent])) < 0.05, key  # same hue family
    siblings = children.groupby("parent_key")["colour"].nunique()
    assert (siblings == children.groupby("parent_key").size()).all()  # each sibling its own shade


def test_colours_are_stable_edited_and_kept_on_reload(project):
    source = CODEBOOK.read_text(encoding="utf-8")
    load_into_project(project, parse_codebook(source, str(CODEBOOK)), source)
    first = code_colours(project)
    assert code_colours(project) == first
    set_colour(project, "activity.caseloads", "#AA0000")  # the codebook gives it none
    newer = source.replace('version: "', 'version: "9', 1)
    load_into_project(project, parse_codebook(newer, str(CODEBOOK)), newer)
    again = code_colours(project)
    assert again["activity.caseloads"] == "#aa0000" and again["barrier"] == "#d62728"  # the file's own colour
    assert {k: v for k, v in again.items() if k != "activity.caseloads"} == {
        k: v for k, v in first.items() if k != "activity.caseloads"}
    with pytest.raises(InputError, match="not a colour"):
        set_colour(project, "barrier", "red")
    with pytest.raises(NotFoundError, match="no code"):
        set_colour(project, "nope", "#000000")
    assert code_colours(project)["activity.caseloads"] == "#aa0000"
