"""End to end in a real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Types a question into the real app, waits for the streamed answer, checks the highlighted source,
clicks a citation marker, uploads a document that contains HTML/JS and checks it stays text.
``make browser`` installs Chromium; under ``CI=true`` a missing browser fails the run.
Set ``DTBD_SCREENSHOT_OUT=docs/screenshot.png`` to also refresh the README screenshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.app import running
from assistant.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "Nghệ An đào tạo bao nhiêu thạc sỹ?"
TIMEOUT_MS = 90_000

pytestmark = pytest.mark.timeout(600)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser test must run; `make browser` installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable("không có /usr/bin/chromium (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("thiếu gói playwright (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 960}, locale="vi-VN")
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def app_url(
    assistant: Any, corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    settings = corpus_settings.model_copy(
        update={"feedback_log": tmp_path_factory.mktemp("e2e") / "feedback.jsonl"}
    )
    with running(assistant, settings) as url:
        yield url


def _ask(page: Any, question: str) -> Any:
    """Type the question, press Enter, return the locator of the last answer bubble once final."""
    from playwright.sync_api import expect

    box = page.locator("#dtbd-question textarea")
    box.fill(question)
    box.press("Enter")
    bot = page.locator("#dtbd-chat .message.bot").last
    expect(page.locator("#dtbd-chat .message.user").last).to_contain_text(question)
    expect(bot).not_to_contain_text("Đang tìm trong tài liệu", timeout=TIMEOUT_MS)
    return bot


def test_question_answer_and_highlighted_source(page: Any, app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.goto(app_url)
    bot = _ask(page, QUESTION)
    expect(bot).to_contain_text("935")
    expect(bot).to_contain_text("[1]")
    mark = page.locator("#dtbd-sources mark")
    expect(mark).to_have_count(1)
    expect(mark).to_contain_text("935")
    card = page.locator("#dtbd-cite-1")
    expect(card).to_have_attribute("open", "")
    expect(card).to_contain_text("Nghệ An")
    expect(card).to_contain_text("Kết luận của Ban Thường vụ Tỉnh ủy")
    expect(page.locator("#dtbd-docx")).to_be_enabled()

    page.locator("#dtbd-good").click()
    expect(page.locator("#dtbd-status")).to_contain_text("Đã ghi nhận")

    shot = tmp_path / "answer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    if out := os.environ.get("DTBD_SCREENSHOT_OUT"):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, out)


def test_clicking_a_marker_opens_its_passage(page: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(app_url)
    page.locator("#dtbd-mode").get_by_text("Soạn giải pháp").click()
    bot = _ask(page, "Đề xuất giải pháp nâng cao chất lượng đào tạo, bồi dưỡng cán bộ cấp xã")
    expect(bot).to_contain_text("Trên cơ sở kinh nghiệm của")
    expect(page.locator("#dtbd-cite-1")).to_have_attribute("open", "")
    expect(page.locator("#dtbd-cite-2")).not_to_have_attribute("open", "")

    bot.locator('a[href="#dtbd-cite-2"]').first.click()  # the marker [2] inside the answer
    expect(page.locator("#dtbd-cite-2")).to_have_attribute("open", "")
    expect(page.locator("#dtbd-cite-1")).not_to_have_attribute("open", "")
    expect(page.locator("#dtbd-cite-2 mark")).not_to_be_empty()
    expect(page.locator("#dtbd-markers input[type=radio]:checked")).to_have_value("2")
    assert page.url.rstrip("/") == app_url  # the click did not navigate

    page.locator("#dtbd-markers").get_by_text("[3]").click()  # the marker selector does the same
    expect(page.locator("#dtbd-cite-3")).to_have_attribute("open", "")


HOSTILE = (
    "Báo cáo <script>window.__xss=1</script> đào tạo cán bộ tỉnh Hà Giang năm 2021\n\n"
    "Năm 2021, Tỉnh ủy Hà Giang đã lãnh đạo, chỉ đạo công tác đào tạo, bồi dưỡng cán bộ đạt nhiều kết quả; "
    'ghi chú <script>window.__xss=1</script><img src=x onerror="window.__xss=2"> trong bản gốc. '
    "Toàn tỉnh đã cử 57 cán bộ học thạc sỹ, 12 cán bộ học tiến sỹ; mở 9 lớp trung cấp lý luận chính trị "
    "cho 640 học viên.\n\n"
    "Thời gian tới, tỉnh tiếp tục đổi mới nội dung, chương trình bồi dưỡng, gắn đào tạo với quy hoạch cán bộ.\n"
)


def test_uploaded_document_with_script_is_shown_as_text(page: Any, tmp_path: Path) -> None:
    """Upload through the page, then ask: the document's markup is displayed, never run."""
    from playwright.sync_api import expect

    from assistant.service import Assistant

    (tmp_path / "corpus").mkdir()
    settings = Settings(
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        feedback_log=tmp_path / "f.jsonl",
        llm="none",
    )
    bot_assistant = Assistant.from_settings(settings)
    doc = tmp_path / "Báo cáo Hà Giang 2021.txt"
    doc.write_text(HOSTILE, encoding="utf-8")

    with running(bot_assistant, settings) as url:
        page.goto(url)
        page.get_by_role("tab", name="Kho tài liệu").click()
        page.locator("#dtbd-upload input[type=file]").set_input_files(str(doc))
        expect(page.locator("#dtbd-upload")).to_contain_text("Báo cáo Hà Giang 2021")
        expect(page.locator("#dtbd-upload a[download]")).to_have_count(1)  # the upload has finished
        page.locator("#dtbd-ingest").click()
        status = page.locator("#dtbd-ingest-status")
        expect(status).to_contain_text("Đã nạp: Báo cáo Hà Giang 2021.txt")
        table = page.locator("#dtbd-doc-table")
        expect(table).to_contain_text("Báo cáo <script>window.__xss=1</script> đào tạo cán bộ tỉnh Hà Giang")
        expect(table).to_contain_text("Hà Giang")

        page.get_by_role("tab", name="Trò chuyện").click()
        answer = _ask(page, "Hà Giang cử bao nhiêu cán bộ học tiến sỹ?")
        expect(answer).to_contain_text("12")
        sources = page.locator("#dtbd-sources")
        expect(sources).to_contain_text('<script>window.__xss=1</script><img src=x onerror="window.__xss=2">')
        expect(sources.locator("mark")).to_contain_text("12")
        assert sources.locator("script, img").count() == 0
        assert page.locator("#dtbd-chat script, #dtbd-doc-table script, #dtbd-doc-table img").count() == 0
        page.wait_for_timeout(500)  # give any injected handler the chance to run
        assert page.evaluate("typeof window.__xss") == "undefined"
        page.screenshot(path=str(tmp_path / "hostile.png"))
