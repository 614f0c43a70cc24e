"""eval/gold.yaml is valid, broad, and every expected answer is really in its source document."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from assistant.figures import extract_figures, figure_values
from assistant.modes import MODE_NAMES
from eval.metrics import KINDS, GoldError, GoldItem, fold, is_figure_only, load_corpus_texts, load_gold

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "eval" / "gold.yaml"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def items() -> list[GoldItem]:
    return load_gold(GOLD)


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    """Document texts as ingestion keeps them: the "Các tin khác" teaser tail is cut off."""
    return load_corpus_texts(CORPUS, strip_boilerplate=True)


@pytest.fixture(scope="module")
def provinces() -> dict[str, str]:
    out = {}
    for meta in CORPUS.glob("*.meta.yaml"):
        out[meta.name.replace(".meta.yaml", ".txt")] = yaml.safe_load(meta.read_text(encoding="utf-8"))[
            "province"
        ]
    return out


def test_size_and_unique_ids(items: list[GoldItem]) -> None:
    assert len(items) >= 90
    assert len({i.id for i in items}) == len(items)


def test_every_kind_and_mode_is_covered(items: list[GoldItem]) -> None:
    kinds = Counter(i.kind for i in items)
    assert set(kinds) == set(KINDS)
    assert {i.mode for i in items} == set(MODE_NAMES)


def test_all_five_documents_are_covered(items: list[GoldItem], bodies: dict[str, str]) -> None:
    assert len(bodies) == 5
    cited = Counter(s for i in items for s in i.sources)
    for doc in bodies:
        assert cited[doc] >= 10, doc


def test_sources_exist(items: list[GoldItem], bodies: dict[str, str]) -> None:
    for i in items:
        for s in i.sources:
            assert s in bodies, f"{i.id}: unknown source {s}"


def test_expected_strings_are_literally_in_a_source(items: list[GoldItem], bodies: dict[str, str]) -> None:
    for i in items:
        if i.refuse:
            continue
        for e in i.expected:
            needle = unicodedata.normalize("NFC", e)
            assert any(needle in bodies[s] for s in i.sources), f"{i.id}: {e!r} not in {i.sources}"


def test_expected_figures_survive_normalisation(items: list[GoldItem], bodies: dict[str, str]) -> None:
    """A figure-only expected string must also be found as a canonical figure in its source."""
    for i in items:
        if i.refuse:
            continue
        for e in i.expected:
            if not is_figure_only(e):
                continue
            want = {f.value for f in extract_figures(e)}
            assert any(want <= figure_values(bodies[s]) for s in i.sources), f"{i.id}: {e!r} -> {want}"


def test_refusals_are_refusals(items: list[GoldItem]) -> None:
    refusals = [i for i in items if i.refuse]
    assert len(refusals) >= 15
    for i in refusals:
        assert i.expected == [] and i.sources == []


def test_traps_name_a_corpus_province(items: list[GoldItem], provinces: dict[str, str]) -> None:
    names = {fold(p) for p in provinces.values()}
    traps = [i for i in items if i.kind == "trap"]
    assert len(traps) >= 5
    for i in traps:
        assert any(n in fold(i.question) for n in names), i.id


def test_unanswerables_include_absent_provinces_and_stripped_boilerplate(items: list[GoldItem]) -> None:
    qs = [fold(i.question) for i in items if i.kind == "unanswerable"]
    assert any("quang tri" in q for q in qs)
    assert sum("nha o xa hoi" in q for q in qs) >= 1
    assert any("144" in q for q in qs)


def test_boilerplate_only_facts_are_never_expected(items: list[GoldItem], bodies: dict[str, str]) -> None:
    full = load_corpus_texts(CORPUS)
    tail = {k: v[len(bodies[k]) :] for k, v in full.items()}
    for i in items:
        for e in i.expected:
            in_body = any(e in bodies[s] for s in i.sources)
            assert in_body or not any(e in tail[s] for s in i.sources), i.id


def test_followups_have_history(items: list[GoldItem]) -> None:
    follow = [i for i in items if i.kind == "followup"]
    assert len(follow) >= 3
    assert all(i.history for i in follow)
    assert any(i.refuse for i in follow)


def test_drafts_span_enough_provinces(items: list[GoldItem], provinces: dict[str, str]) -> None:
    drafts = [i for i in items if i.kind == "draft"]
    assert len(drafts) >= 3
    for i in drafts:
        assert i.mode == "draft" and i.min_provinces >= 2
        assert len({provinces[s] for s in i.sources}) >= i.min_provinces, i.id


def test_comparisons_span_two_documents(items: list[GoldItem]) -> None:
    for i in items:
        if i.kind == "comparison":
            assert len(set(i.sources)) >= 2 and len(i.expected) >= 2, i.id


def test_wording_varies(items: list[GoldItem]) -> None:
    qs = [i.question for i in items]
    assert sum(q.isascii() for q in qs) >= 5  # typed without diacritics
    joined = " ".join(qs)
    for variant in (
        "sỹ",
        "sĩ",
        "uỷ",
        "ủy",
        "Hoà",
        "Hòa",
        "tỉ",
        "kĩ",
        "LLCT",
        "CBCC",
        "QLNN",
        "MTTQ",
        "BTV",
        "HBĐT",
    ):
        assert variant in joined, variant


# ---------------------------------------------------------------------------------------- loader errors


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "gold.yaml"
    p.write_text(text, encoding="utf-8")
    return p


GOOD = """
- id: q001
  question: "Nghệ An đào tạo bao nhiêu thạc sỹ?"
  mode: qa
  kind: figure
  expected: ["935"]
  sources: ["004_a33d8be99f4285d3.txt"]
"""


def test_loader_accepts_minimal_entry(tmp_path: Path) -> None:
    (item,) = load_gold(_write(tmp_path, GOOD))
    assert item.refuse is False and item.history == [] and item.min_provinces == 0


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("kind: figure", "kind: figures", "q001"),
        ("mode: qa", "mode: chat", "mode"),
        ("kind: figure", "kind: trap", "refuse: true"),
        ('sources: ["004_a33d8be99f4285d3.txt"]', "sources: []", "at least one source"),
        ('sources: ["004_a33d8be99f4285d3.txt"]', 'sources: ["004.pdf"]', ".txt"),
        ("id: q001", "id: 1", "id"),
        ('expected: ["935"]', 'expected: ["935"]\n  answer: "935"', "answer"),
        ("kind: figure", "kind: followup", "history"),
        ("kind: figure\n", "kind: draft\n", "draft"),
    ],
)
def test_loader_rejects_bad_entries(tmp_path: Path, replace: str, by: str, message: str) -> None:
    with pytest.raises(GoldError) as e:
        load_gold(_write(tmp_path, GOOD.replace(replace, by)))
    assert "(index 0)" in str(e.value)
    assert message in str(e.value)


def test_loader_rejects_duplicates_and_non_lists(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="duplicate id q001"):
        load_gold(_write(tmp_path, GOOD + GOOD))
    with pytest.raises(GoldError, match="list"):
        load_gold(_write(tmp_path, "id: q001\n"))
    with pytest.raises(GoldError, match="YAML"):
        load_gold(_write(tmp_path, "- [unclosed\n"))


def test_draft_points_are_in_their_province_document_only(
    items: list[GoldItem], bodies: dict[str, str], provinces: dict[str, str]
) -> None:
    """A gold draft point is literally in a document of its province and in no other province's."""
    points = [(i.id, p) for i in items for p in i.points]
    assert len(points) >= 5
    for qid, p in points:
        holders = {provinces[doc] for doc, text in bodies.items() if fold(p.phrase) in fold(text)}
        assert holders == {p.province}, (qid, p.phrase, holders)
