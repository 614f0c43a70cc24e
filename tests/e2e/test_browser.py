"""End to end in a real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Types a question into the real app, waits for the streamed answer, checks the highlighted source,
clicks a citation marker, uploads a document that contains HTML/JS and checks it stays text.
``make browser`` installs Chromium; under ``CI=true`` a missing browser fails the run.
Also: the page is Vietnamese throughout, lays out for a 390×844 phone, keeps the conversation across
a reload, copies plain text, and (slow, real LLM) «Dừng» and «Cuộc trò chuyện mới» stop a running
answer. Set ``DTBD_SCREENSHOT_DIR=docs`` to refresh ``screenshot.png``, ``screenshot-mobile.png``
and ``screenshot-draft.png`` (``DTBD_SCREENSHOT_OUT=docs/screenshot.png`` still refreshes the first).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.app import running
from assistant.app_render import vi_sort_key
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


def _keep(shot: Path, name: str) -> None:
    """Copy a screenshot into ``DTBD_SCREENSHOT_DIR`` (the docs folder) when that is set."""
    if folder := os.environ.get("DTBD_SCREENSHOT_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(folder) / name)


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
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    if out := os.environ.get("DTBD_SCREENSHOT_OUT"):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, out)
    _keep(shot, "screenshot.png")


def test_clicking_a_marker_opens_its_passage(page: Any, app_url: str, tmp_path: Path) -> None:
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
    shot = tmp_path / "draft.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot))
    _keep(shot, "screenshot-draft.png")


BEACON = "http://127.0.0.1:9/beacon.gif"  # a Markdown image in a document must never be fetched
HOSTILE = (
    "Báo cáo <script>window.__xss=1</script> đào tạo cán bộ tỉnh Hà Giang năm 2021\n\n"
    "Năm 2021, Tỉnh ủy Hà Giang đã lãnh đạo, chỉ đạo công tác đào tạo, bồi dưỡng cán bộ đạt nhiều kết quả; "
    'ghi chú <script>window.__xss=1</script><img src=x onerror="window.__xss=2"> '
    f"![ảnh]({BEACON}) trong bản gốc. "
    "Toàn tỉnh đã cử 57 cán bộ học thạc sỹ, 12 cán bộ học tiến sỹ; mở 9 lớp trung cấp "
    "lý luận chính trị cho 640 học viên.\n\n"
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

    fetched: list[str] = []
    page.on("request", lambda req: fetched.append(req.url))
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
        # A summary quotes the sentence with the Markdown image: it is shown as text, never fetched.
        page.locator("#dtbd-mode").get_by_text("Tìm hiểu").click()
        summary = _ask(page, "Tóm tắt báo cáo đào tạo cán bộ tỉnh Hà Giang năm 2021")
        expect(summary).to_contain_text(f"![ảnh]({BEACON})")
        assert summary.locator("img, a[href^='http']").count() == 0
        page.wait_for_timeout(500)  # give any injected handler the chance to run
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert not [u for u in fetched if u.startswith("http://127.0.0.1:9/")]
        page.screenshot(path=str(tmp_path / "hostile.png"))


# -- issue 12: Vietnamese throughout, on a phone, a conversation that survives --------------------------
ENGLISH = ("Drop File Here", "Click to Upload", "- or -", "Use via API", "Built with Gradio", "processing")


def _no_english(page: Any) -> None:
    text = page.inner_text("body")
    assert not [s for s in ENGLISH if s in text], text[:400]


def test_the_page_is_vietnamese_and_the_library_fits(page: Any, app_url: str, assistant: Any) -> None:
    from playwright.sync_api import expect

    page.goto(app_url)
    expect(page.locator("#dtbd-question textarea")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("footer")).to_contain_text("Dùng qua API")
    _no_english(page)
    page.get_by_role("tab", name="Kho tài liệu").click()
    table = page.locator("#dtbd-doc-table")
    expect(table).to_contain_text("Hải Dương")
    expect(page.locator("#dtbd-upload")).to_contain_text("Thả tệp vào đây")
    _no_english(page)
    # The whole table is on screen at 1440 px: its last column ends inside the window, no side scroll.
    last = table.locator("th").filter(has_text="Tải lên").first.bounding_box()
    assert last is not None and last["x"] + last["width"] <= 1440
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # Vietnamese order in the table (sorted by title by default) and in the province filter.
    text = " ".join(table.inner_text().split())
    titles = [" ".join(d.title.split()) for d in assistant.documents()]
    assert all(t in text for t in titles), text
    assert sorted(titles, key=text.find) == sorted(titles, key=vi_sort_key)


def test_example_chip_sets_question_and_mode(page: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(app_url)
    page.locator("#dtbd-examples").get_by_text("LLCT là gì?").click()
    expect(page.locator("#dtbd-question textarea")).to_have_value("LLCT là gì?")
    expect(page.locator("#dtbd-mode input[type=radio]:checked")).to_have_value("Tìm hiểu")


def test_copy_is_plain_text_and_the_conversation_survives_a_reload(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": 1440, "height": 960}, locale="vi-VN")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app_url)
        bot = _ask(page, QUESTION)
        expect(bot).to_contain_text("935")
        expect(page.locator("#dtbd-status")).to_contain_text("Xong sau", timeout=TIMEOUT_MS)
        page.locator("#dtbd-chat .message.bot").last.hover()
        page.locator("#dtbd-chat button[aria-label='Sao chép tin nhắn']").last.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "935" in copied and "[1]" in copied and "#dtbd-cite" not in copied and "\\[" not in copied
        page.locator("#dtbd-copy-acc").get_by_text("Bản sao để dán").click()
        page.locator("#dtbd-copy-btn").click()
        page.wait_for_function("() => (window.__dtbdCopied || '').includes('Nguồn trích dẫn:')")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("Nghệ An") and "Nguồn trích dẫn:\n[1] Kết luận" in copied
        details = page.locator("#dtbd-details-acc")
        expect(details).to_contain_text("Chi tiết kỹ thuật")
        expect(page.locator("#dtbd-details")).not_to_be_visible()  # collapsed until asked for

        page.reload()
        expect(page.locator("#dtbd-chat .message.bot").last).to_contain_text("935")
        expect(page.locator("#dtbd-chat .message.user").last).to_contain_text(QUESTION)
        page.locator("#dtbd-new").click()
        expect(page.locator("#dtbd-chat .message")).to_have_count(0)
        expect(page.locator("#dtbd-sources")).to_contain_text("Chưa có trích dẫn")
        expect(page.locator("#dtbd-docx")).to_be_disabled()
        page.reload()
        expect(page.locator("#dtbd-question textarea")).to_be_visible()
        page.wait_for_timeout(1000)  # the saved conversation (now empty) loads with the page
        expect(page.locator("#dtbd-chat .message")).to_have_count(0)
    finally:
        ctx.close()


def test_phone_layout_puts_the_chat_first_and_markers_scroll_to_the_passage(
    browser: Any, app_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True, has_touch=True
    )
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app_url)
        box = page.locator("#dtbd-question textarea")
        expect(box).to_be_visible()
        q = box.bounding_box()
        assert q is not None and q["y"] + q["height"] <= 844  # the input is on the first screen
        chat = page.locator("#dtbd-chat").bounding_box()
        sources = page.locator("#dtbd-sources").bounding_box()
        mode = page.locator("#dtbd-mode").bounding_box()
        assert chat and sources and mode and chat["y"] < sources["y"] and sources["y"] < mode["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        bot = _ask(page, QUESTION)
        expect(bot).to_contain_text("935")
        shot = tmp_path / "mobile.png"
        page.screenshot(path=str(shot))
        _keep(shot, "screenshot-mobile.png")
        card = page.locator("#dtbd-cite-1")
        assert not _in_view(page, card)  # below the chat until asked for
        bot.locator('a[href="#dtbd-cite-1"]').first.tap()
        page.wait_for_function(
            "() => { const r = document.querySelector('#dtbd-cite-1').getBoundingClientRect();"
            " return r.top >= 0 && r.top < window.innerHeight; }"
        )
        expect(card.locator("mark")).to_be_in_viewport()
    finally:
        ctx.close()


def _in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"]


# -- slow: a real LLM answer can be watched, stopped and cancelled -----------------------------------------
@pytest.fixture(scope="module")
def llm_app(
    corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Settings]]:
    from assistant.service import Assistant

    settings = corpus_settings.model_copy(
        update={
            "llm": "local",
            "llm_max_tokens": 80,
            "feedback_log": tmp_path_factory.mktemp("llm") / "f.jsonl",
        }
    )
    with running(Assistant.from_settings(settings), settings) as url:
        yield url, settings


def _slot_free(settings: Settings) -> bool:
    from assistant.llm import slot_stats

    return slot_stats(settings)["in_use"] == 0


@pytest.mark.slow
def test_stop_and_new_chat_end_a_running_llm_draft(page: Any, llm_app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, settings = llm_app
    draft_q = "Đề xuất giải pháp nâng cao chất lượng đào tạo, bồi dưỡng cán bộ cấp xã"
    page.goto(url)
    page.locator("#dtbd-mode").get_by_text("Soạn giải pháp").click()
    box = page.locator("#dtbd-question textarea")
    box.fill(draft_q)
    box.press("Enter")
    status = page.locator("#dtbd-status")
    expect(status).to_contain_text("⏳ Đang", timeout=TIMEOUT_MS)  # a stage with elapsed seconds
    # The verified extractive draft shows first, then the model writes (or waits for its turn).
    bot = page.locator("#dtbd-chat .message.bot").last
    expect(bot).to_contain_text("Trên cơ sở kinh nghiệm của", timeout=TIMEOUT_MS * 3)
    expect(status).to_contain_text("Đang viết", timeout=TIMEOUT_MS)
    # A second question while this one runs is refused with a message, and stays in the box.
    box.fill("Nghệ An đào tạo bao nhiêu thạc sỹ?")
    box.press("Enter")
    expect(page.get_by_text("Đang trả lời câu trước").first).to_be_visible()
    expect(box).to_have_value("Nghệ An đào tạo bao nhiêu thạc sỹ?")

    page.locator("#dtbd-stop").click()
    expect(bot).to_contain_text("(đã dừng)")
    expect(status).to_contain_text("Đã dừng")
    for _ in range(600):  # hang guard, not a speed check
        if _slot_free(settings):
            break
        page.wait_for_timeout(500)
    assert _slot_free(settings)

    # «Cuộc trò chuyện mới» while a draft runs: the chat stays empty, the draft never comes back.
    box.fill(draft_q)
    box.press("Enter")
    expect(bot).to_contain_text("Trên cơ sở kinh nghiệm của", timeout=TIMEOUT_MS * 3)
    page.locator("#dtbd-new").click()
    expect(page.locator("#dtbd-chat .message")).to_have_count(0)
    for _ in range(600):
        if _slot_free(settings):
            break
        page.wait_for_timeout(500)
    assert _slot_free(settings)
    page.wait_for_timeout(3000)  # anything still in flight would have been drawn by now
    expect(page.locator("#dtbd-chat .message")).to_have_count(0)


def test_regenerate_edit_and_rate_a_message(page: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(app_url)
    _ask(page, QUESTION)
    status = page.locator("#dtbd-status")
    expect(status).to_contain_text("Xong sau", timeout=TIMEOUT_MS)
    page.locator("#dtbd-good").click()  # the status line now says something else …
    expect(status).to_contain_text("Đã ghi nhận")
    page.locator("#dtbd-chat button[aria-label='Tạo lại']").last.click()  # … until the answer is redone
    expect(status).to_contain_text("Xong sau", timeout=TIMEOUT_MS)
    expect(page.locator("#dtbd-chat .message.user")).to_have_count(1)  # the exchange was replaced
    expect(page.locator("#dtbd-chat .message.bot").last).to_contain_text("935")

    page.locator("#dtbd-chat button[aria-label='Sửa']").last.click()  # edit the last question
    page.locator("#dtbd-chat textarea").last.fill("Lạng Sơn đào tạo bao nhiêu thạc sỹ?")
    page.locator("#dtbd-chat button[aria-label='Gửi']").first.click()
    expect(page.locator("#dtbd-chat .message.user")).to_have_count(1)
    expect(page.locator("#dtbd-chat .message.user").last).to_contain_text(
        "Lạng Sơn đào tạo bao nhiêu thạc sỹ?"
    )
    expect(page.locator("#dtbd-chat .message.bot").last).to_contain_text("15", timeout=TIMEOUT_MS)

    page.locator("#dtbd-comment textarea").fill("Đúng số của Lạng Sơn")
    page.locator("#dtbd-chat button[aria-label='Đúng']").last.click()  # per-message feedback
    expect(status).to_contain_text("Đã ghi nhận: câu trả lời đúng", timeout=TIMEOUT_MS)
    expect(page.locator("#dtbd-comment textarea")).to_have_value("")
