"""Bad input at scale: 200+ malformed files beside the real corpus (``eval.make_bad_corpus``).

Every bad file gives exactly one error naming it, every good file is indexed and answerable,
the documents indexed before are untouched, and ``dtbd ingest`` exits 1 with one error line
per bad file.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.settings import Settings
from eval.make_bad_corpus import Entry, build
from ingest.pipeline import IngestReport
from tests.scale import (
    NGHE_AN_Q,
    NGHE_AN_SOURCE,
    VENV_BIN,
    child_env,
    copy_index,
    corpus_with,
    index_problems,
    settings_for,
    vector_index,
)

BAD_DIR = "lô xấu"


@dataclass
class BadRun:
    corpus: Path
    entries: list[Entry]
    settings: Settings
    report: IngestReport
    before: dict[str, set[str]]  # doc_id -> chunk ids of the documents indexed before
    seconds: float

    def path(self, name: str) -> Path:
        return self.corpus / BAD_DIR / name

    def source(self, name: str) -> str:
        return f"{BAD_DIR}/{name}"


def _chunks_by_doc(settings: Settings) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for cid, _, meta, _ in vector_index(settings).iter_all():
        out.setdefault(str(meta["doc_id"]), set()).add(cid)
    return out


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory, corpus_settings: Settings) -> BadRun:
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("bad-input")
    corpus = corpus_with(root / "corpus")
    entries = build(corpus / BAD_DIR, seed=7, big_mb=50)
    settings = settings_for(copy_index(Path(corpus_settings.index_dir), root / "index"), corpus)
    before = _chunks_by_doc(settings)
    t0 = time.perf_counter()
    report = run_ingest(settings)  # the whole corpus folder: prune on, like `dtbd ingest`
    return BadRun(corpus, entries, settings, report, before, time.perf_counter() - t0)


def test_the_generated_folder_is_big_and_bad(bad: BadRun) -> None:
    kinds = Counter(e.expect for e in bad.entries)
    assert kinds["error"] >= 200 and kinds["indexed"] >= 10
    big = bad.path("quá lớn/nhật ký 50 MB.txt")
    assert big.stat().st_size == 50 * 1024 * 1024
    names = "".join(e.name for e in bad.entries)
    assert " " in names and "ữ" in names and "[" in names


def test_one_error_per_bad_file_naming_it(bad: BadRun) -> None:
    errors = list(bad.report.errors)
    unexplained = set(range(len(errors)))
    for e in bad.entries:
        if e.expect not in ("error", "either"):
            continue
        prefix = f"{bad.path(e.blame or e.name)}: "
        hits = [i for i, err in enumerate(errors) if err.startswith(prefix)]
        if e.expect == "error":
            assert len(hits) == 1, f"{e.kind} {e.name}: {len(hits)} error lines"
            reason = errors[hits[0]][len(prefix) :]
            assert reason.strip() and "(" in reason, errors[hits[0]]  # Vietnamese (English)
        else:
            assert len(hits) <= 1, e.name
        unexplained -= set(hits)
    assert not unexplained, [errors[i] for i in sorted(unexplained)][:5]
    assert all("\n" not in err for err in errors)
    # The 50 MB file is refused by size, before it is read.
    big = next(err for err in errors if "nhật ký 50 MB" in err)
    assert "tệp quá lớn" in big and "file too large" in big


def test_every_good_file_is_indexed(bad: BadRun) -> None:
    from ingest.corpus import doc_id_of

    states = vector_index(bad.settings).doc_states()
    by_source = {st.source: st for st in states.values()}
    good = [e for e in bad.entries if e.expect == "indexed"]
    for e in good:
        st = by_source.get(bad.source(e.name))
        assert st is not None, f"{e.kind} {e.name} not indexed"
        assert len(st.sha256) == 1 and st.n_chunks == {len(st.ids)}
        assert doc_id_of(bad.source(e.name)) in states
    # Nothing from a bad or skipped file got in.
    bad_sources = {bad.source(e.name) for e in bad.entries if e.expect in ("error", "skipped")}
    assert not bad_sources & set(by_source)
    either = [e for e in bad.entries if e.expect == "either"]
    indexed_either = [e for e in either if bad.source(e.name) in by_source]
    assert len(indexed_either) + sum(
        1 for e in either if any(err.startswith(f"{bad.path(e.name)}: ") for err in bad.report.errors)
    ) == len(either)
    assert bad.report.docs_added == len(good) + len(indexed_either)
    assert index_problems(bad.settings) == []


def test_a_good_file_answers_its_question(bad: BadRun) -> None:
    from assistant.service import Assistant

    bot = Assistant.from_settings(bad.settings)
    for e in bad.entries:
        if e.question:
            ans = bot.ask(e.question)
            assert not ans.refused and e.answer in ans.answer, ans.answer
            assert ans.citations[0].source == bad.source(e.name)


def test_nothing_indexed_before_is_lost(bad: BadRun) -> None:
    from assistant.service import Assistant

    after = _chunks_by_doc(bad.settings)
    for doc_id, ids in bad.before.items():
        assert after.get(doc_id) == ids, doc_id
    assert bad.report.docs_removed == 0 and bad.report.chunks_removed == 0
    ans = Assistant.from_settings(bad.settings).ask(NGHE_AN_Q)
    assert "935" in ans.answer and ans.citations[0].source == NGHE_AN_SOURCE
    # How long the bad folder takes is a figure for the report, not an assert (see the README).
    print(f"\ningest of the bad folder: {bad.seconds:.0f}s, {bad.report.summary()}")


def test_cli_exits_1_with_one_error_line_per_bad_file(bad: BadRun) -> None:
    """``dtbd ingest`` as an operator runs it from a script (stderr not a terminal)."""
    env = child_env(
        DTBD_INDEX_DIR=str(bad.settings.index_dir), DTBD_CORPUS_DIR=str(bad.corpus), DTBD_LLM="none"
    )
    proc = subprocess.run(
        [str(VENV_BIN / "dtbd"), "ingest"],
        capture_output=True,
        text=True,
        env=env,
        cwd=bad.corpus.parent,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    error_lines = [ln for ln in lines if ln.startswith("Lỗi / error:")]
    for e in bad.entries:
        if e.expect == "error":
            named = [ln for ln in error_lines if f"{bad.path(e.blame or e.name)}: " in ln]
            assert len(named) == 1, f"{e.name!r} named on {len(named)} error lines"
    assert len(error_lines) == len(bad.report.errors)
    summary = [ln for ln in lines if "tệp/files" in ln]
    assert summary and f"{len(bad.report.errors)} lỗi/failed" in summary[-1], lines[-5:]
    # The second run wrote nothing.
    assert "+0 mới/new, ~0 cập nhật/updated, -0 xóa/removed" in summary[-1]


def test_a_good_file_turned_bad_keeps_its_old_chunks(bad: BadRun) -> None:
    """A file that becomes unreadable is reported, and its last good version stays searchable."""
    from ingest.pipeline import run_ingest

    name = "tốt/Kế hoạch Word.docx"
    before = _chunks_by_doc(bad.settings)
    path = bad.path(name)
    path.write_bytes(path.read_bytes()[:300])
    report = run_ingest(bad.settings)
    assert sum(err.startswith(f"{path}: ") for err in report.errors) == 1
    assert _chunks_by_doc(bad.settings) == before
    assert report.chunks_added == 0 and report.docs_removed == 0
