"""A running assistant sees what another process ingests: generation stamp, atomic reload, no silent
dense fallback, citations that still point at the right text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings

HA_GIANG = (
    "Báo cáo kết quả đào tạo, bồi dưỡng cán bộ tỉnh Hà Giang năm 2021\n\n"
    "Năm 2021, Tỉnh ủy Hà Giang cử 57 cán bộ học thạc sỹ và 12 cán bộ học tiến sỹ; "
    "mở 9 lớp trung cấp lý luận chính trị cho 640 học viên.\n"
)


def _outside_ingest(settings: Settings, *paths: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DTBD_")}
    env.update(DTBD_CORPUS_DIR=str(settings.corpus_dir), DTBD_INDEX_DIR=str(settings.index_dir), DTBD_LLM="none")
    r = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", *map(str, paths)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert r.returncode == 0, r.stderr


def _lao_cai_index(tmp_path: Path) -> Settings:
    """An index of one corpus document (Lào Cai), ingested by another process."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / "001_4cad61de56c6e0a2.txt", corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", llm="none", feedback_log=tmp_path / "f")
    _outside_ingest(settings)
    return settings


def test_a_running_assistant_picks_up_an_outside_ingest(tmp_path: Path) -> None:
    from assistant.service import Assistant

    settings = _lao_cai_index(tmp_path)
    from assistant import health

    bot = Assistant.from_settings(settings)
    before = bot.health()
    assert before["documents"] == 1
    assert bot.ask("Hà Giang cử bao nhiêu cán bộ học thạc sỹ?").refused

    new = Path(settings.corpus_dir) / "ha_giang.txt"
    new.write_text(HA_GIANG, encoding="utf-8")
    _outside_ingest(settings, new)  # another process writes while this one keeps its objects

    ans = bot.ask("Hà Giang cử bao nhiêu cán bộ học thạc sỹ?")
    assert not ans.refused and "57" in ans.answer, ans.answer
    c = ans.citations[0]
    assert new.read_text(encoding="utf-8")[c.start : c.end] == c.quote
    after = bot.health()
    grew = {k: after["fallbacks"][k] - before["fallbacks"][k] for k in after["fallbacks"]}
    assert after["documents"] == 2 and grew[health.INDEX_RELOADED] == 1
    assert after["generation"] != before["generation"]
    assert grew[health.DENSE_FAILED] == 0  # the vector store was reopened, not silently bypassed
    # nothing changed since: no reload on the next question
    bot.ask("Lào Cai đào tạo bao nhiêu cán bộ?")
    assert bot.health()["fallbacks"][health.INDEX_RELOADED] == after["fallbacks"][health.INDEX_RELOADED]


def test_a_figure_from_a_poor_scan_carries_a_warning() -> None:
    from assistant.citations import make_citation
    from assistant.service import poor_scan_warning
    from assistant.types import Passage

    text = "Năm 2022 mở 17 lớp bồi dưỡng."
    common = dict(chunk_id="c", doc_id="d", source="scan.pdf", title="Báo cáo", province="", period="",
                  doc_type="", section="", start=0, end=len(text), text=text, index_text=text, locator="trang 2")
    poor = make_citation(1, Passage(**common, ocr_conf=55.0))  # type: ignore[arg-type]
    good = make_citation(2, Passage(**common, ocr_conf=96.0))  # type: ignore[arg-type]
    typed = make_citation(3, Passage(**common))  # type: ignore[arg-type]
    warning = poor_scan_warning([poor, good, typed], 80.0)
    assert "[1] trang 2" in warning and "[2]" not in warning and "[3]" not in warning
    assert "đối chiếu" in warning
    assert poor_scan_warning([good, typed], 80.0) == ""


def test_a_failed_vector_read_inside_a_question_reopens_the_store_without_hanging(tmp_path: Path) -> None:
    """The dense side reopens the vector store under the assistant's lock: it must do so in the
    question's own thread (a helper thread waiting on that lock would hang the question forever)."""
    import threading

    from assistant import health
    from assistant.service import Assistant

    settings = _lao_cai_index(tmp_path)
    bot = Assistant.from_settings(settings)
    assert "Lào Cai" in bot.ask("Lào Cai đào tạo bao nhiêu cán bộ?").answer
    class Failing:  # the real collection, whose next two reads fail (ids path, then filter path)
        def __init__(self, inner: object) -> None:
            self.inner, self.left = inner, 2

        def query(self, **kw: object) -> object:
            if self.left:
                self.left -= 1
                raise RuntimeError("injected: vector store read failed")
            return self.inner.query(**kw)  # type: ignore[attr-defined]

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    view = bot._view
    bot.retriever.vectors.collection = Failing(bot.retriever.vectors.collection)
    before = health.counters()
    out: dict[str, object] = {}
    t = threading.Thread(target=lambda: out.update(ans=bot.ask("Lào Cai đào tạo bao nhiêu cán bộ?")), daemon=True)
    t.start()
    t.join(timeout=120)
    assert not t.is_alive(), "the question hung"
    ans = out["ans"]
    assert not ans.refused and ans.citations  # type: ignore[attr-defined]
    assert bot._view > view  # the failed read reopened the store …
    assert health.counters()[health.DENSE_FAILED] == before[health.DENSE_FAILED]  # … not bypassed
