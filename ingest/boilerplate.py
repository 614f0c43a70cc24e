"""Rule-based removal of web-page furniture, returned as kept spans.

Spans (not a rewritten string) are returned so that every offset into the kept text
is still an offset into the original file, which citations highlight.
"""

from __future__ import annotations

import re

# A line that is page furniture wherever it stands.
_FURNITURE = re.compile(
    r"^(?:Phản hồi|Gửi cho bạn bè|In bài(?: viết)?|Chia sẻ|Bình luận|Thông tin người gửi phản hồi"
    r"|\(\d+\)\s*Bình luận|Xem các tin đã đưa ngày:?|Tin trong:.*|Mới nhất|Xem nhiều nhất"
    r"|Các tin khác|Tin liên quan|Tin cùng chuyên mục|Bài viết liên quan)\s*$",
    re.IGNORECASE,
)
# From one of these lines (in the second half of a page) to the end is teasers/comments.
_TAIL = re.compile(
    r"^(?:Các tin khác|Tin liên quan|Tin cùng chuyên mục|Bài viết liên quan|Xem nhiều nhất|Mới nhất"
    r"|Phản hồi|Gửi cho bạn bè|\(\d+\)\s*Bình luận|Bình luận|Thông tin người gửi phản hồi)\s*$",
    re.IGNORECASE,
)
# The site's "today" header such as "Thứ Sáu, 8/11/2024" (the day the page was saved, not the
# article's date). An article's own dateline ("14/10/2021 06:00") is content and is kept.
_DATELINE = re.compile(
    r"^(?:Thứ\s+(?:Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ\s+nhật),?\s*\d{1,2}/\d{1,2}/\d{4}\s*$",
    re.IGNORECASE,
)


def kept_spans(text: str) -> list[tuple[int, int]]:
    """Line spans of ``text`` that are content: furniture lines dropped, teaser tail cut."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1

    cut = len(text)
    half = len(text) // 2
    for start, end in lines:
        if start >= half and _TAIL.match(text[start:end].strip()):
            cut = start
            break

    kept: list[tuple[int, int]] = []
    for start, end in lines:
        if start >= cut:
            break
        stripped = text[start:end].strip()
        if not stripped or _FURNITURE.match(stripped) or _DATELINE.match(stripped):
            continue
        kept.append((start, end))
    return kept
