"""Find the corpus files and turn each into a ``SourceDocument`` with its metadata."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from ingest.anatomy import Anatomy, display_body
from ingest.anatomy import parse as parse_anatomy
from ingest.loaders import SUPPORTED_SUFFIXES, LoadError
from ingest.models import DocMeta, SourceDocument
from ingest.provinces import NATIONAL, PROVINCES, dominant_province, find_provinces
from ingest.sandbox import SandboxLimits, load_untrusted

META_SUFFIX = ".meta.yaml"
_PERIOD = re.compile(
    r"(?:giai đoạn|nhiệm kỳ|từ năm)\s*((?:19|20)\d{2})\s*(?:-|–|đến|đến năm)\s*((?:19|20)\d{2})", re.I
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def source_of(path: Path, corpus_dir: Path) -> str:
    """Path relative to the corpus dir (POSIX), or the file name for files outside it."""
    try:
        return path.resolve().relative_to(corpus_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def doc_id_of(source: str) -> str:
    """Stable id from the relative path: readable stem plus a short hash against collisions."""
    stem = Path(source).with_suffix("").as_posix()
    return f"{stem}#{hashlib.sha1(source.encode()).hexdigest()[:6]}" if "/" in source else stem


def discover(paths: list[Path]) -> list[Path]:
    """Supported files under the given files/folders, sorted, sidecars and hidden files skipped."""
    out: set[Path] = set()
    for p in paths:
        candidates: Iterator[Path] = p.rglob("*") if p.is_dir() else iter([p])
        for f in candidates:
            if f.name.startswith(".") or f.name.endswith(META_SUFFIX) or f.is_dir():
                continue
            if p.is_dir() and f.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            out.add(f)
    return sorted(out)


def _read_sidecar(path: Path) -> dict[str, str]:
    side = path.with_name(path.name.rsplit(".", 1)[0] + META_SUFFIX)
    if not side.exists():
        return {}
    try:
        data = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        detail = " ".join(str(e).split())  # YAML errors span several lines; the log wants one
        raise LoadError(
            side, f"tệp siêu dữ liệu không đọc được: {detail}", f"unreadable metadata sidecar: {detail}"
        ) from e
    if not isinstance(data, dict):
        raise LoadError(
            side, "tệp siêu dữ liệu phải là một bảng khóa: giá trị", "metadata sidecar must be a mapping"
        )
    return {str(k): str(v) for k, v in data.items() if v is not None}


def infer_period(text: str) -> str:
    """'2012-2020' from "giai đoạn 2012 - 2020", else the single year most mentioned."""
    m = _PERIOD.search(text)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    years = _YEAR.findall(text[:3000])
    return max(set(years), key=years.count) if years else ""


def infer_province(anatomy: Anatomy, title: str, path: Path, text: str) -> str:
    """Province a document speaks for: issuing body first, then title, file name, body.

    The issuing body decides ("UBND tỉnh X" → X; a Bộ, Chính phủ, Ban … Trung ương, a Học viện →
    "Trung ương"), never the city in the place-and-date line. "" when nothing establishes it: the
    document stays answerable and the answer says it does not name its province.
    """
    if anatomy.province:
        return anatomy.province
    for candidate in (title, re.sub(r"[-_.]+", " ", path.stem)):
        found = find_provinces(candidate)
        if len(found) == 1:
            return found[0]
    return dominant_province(text)


# A first line longer than this is a paragraph, not a title.
TITLE_MAX = 160
# A title made of a paragraph's opening words stops at a word boundary before this length.
OPENING_TITLE_CHARS = 100


def _opening_words(line: str, anat: Anatomy) -> str:
    """ "Sáng nay 30/7, Trung tâm … đã bế…" → "Trung tâm Chính trị huyện … đã bế…": the dateline (a date,
    not a subject) is dropped; the cut falls between words and says so with "…"."""
    if anat.dateline:
        line = re.sub(r"^[^,]{0,40}?\d{1,2}\s*[/.\-]\s*\d{1,2}(?:\s*[/.\-]\s*\d{4})?\s*,\s*", "", line)
    if len(line) <= OPENING_TITLE_CHARS:
        return line
    cut = line[:OPENING_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "…"


def _period(text: str, anat: Anatomy) -> str:
    """The period a document covers; for a văn bản its legal bases' years are other documents' years."""
    if anat.genre != "van_ban":
        return infer_period(text)
    own = list(text)
    for b in anat.bases:
        own[b.span.start : b.span.end] = " " * (b.span.end - b.span.start)
    period = infer_period("".join(own))
    return period or (anat.date.value[:4] if anat.date else "")


def infer_meta(text: str, path: Path, loaded_title: str, side: dict[str, str]) -> DocMeta:
    """Metadata: the sidecar's values win; the rest comes from the document's anatomy, then the text."""
    anat = parse_anatomy(text)
    first_line = next((ln.strip() for ln in text.split("\n") if ln.strip()), path.stem)
    anat_title = anat.title()
    if anat_title:  # a văn bản's type + number + trích yếu, a news page's headline
        title = anat_title
    elif loaded_title:
        title = loaded_title
    elif len(first_line) <= TITLE_MAX:
        title = first_line
    else:  # the text opens with its first paragraph: its opening words, without the dateline
        title = _opening_words(first_line, anat)
    title = side.get("title") or title
    date = ""
    if anat.date:
        date = anat.date.value
    elif "ngay_ban_hanh" in anat.table:
        date = anat.table["ngay_ban_hanh"].value
    elif anat.published:
        date = anat.published.value
    doc_type = anat.type_value.lower() if anat.type_value else ("bài báo" if anat.genre == "tin_bai" else "")
    return DocMeta(
        title=title,
        province=side.get("province") or infer_province(anat, title, path, text),
        issuing_body=side.get("issuing_body") or (display_body(anat.issuer.value) if anat.issuer else ""),
        doc_type=side.get("doc_type") or doc_type,
        date=side.get("date") or date,
        period=side.get("period") or _period(text, anat),
        source_note=side.get("source", ""),
        anatomy=anat.to_json(),
    )


def load_document(
    path: Path, corpus_dir: Path, max_bytes: int, limits: SandboxLimits | None = None
) -> SourceDocument:
    """Load one file with its sidecar metadata (or metadata inferred from the text).

    The file is parsed in a child process under ``limits`` (default: the ``DTBD_SANDBOX_*``
    settings from the environment); see ``ingest/sandbox.py``.
    """
    loaded = load_untrusted(path, max_bytes, limits)
    side = _read_sidecar(path)
    text = loaded.text
    meta = infer_meta(text, path, loaded.title or "", side)
    source = source_of(path, corpus_dir)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    side_path = path.with_name(path.name.rsplit(".", 1)[0] + META_SUFFIX)
    if side_path.exists():  # a metadata edit must re-index the document too
        digest = hashlib.sha256((digest + side_path.read_text(encoding="utf-8")).encode()).hexdigest()
    return SourceDocument(
        doc_id=doc_id_of(source),
        source=source,
        path=path,
        text=text,
        sha256=digest,
        meta=meta,
        kind=loaded.kind,
        spans=loaded.spans,  # pages / sheet rows, for citation locators
    )


# -- user corrections ------------------------------------------------------------------------
# What a user may set or correct for a document (at upload, in the document list, by the CLI/API):
# written to its sidecar, which wins over everything inferred and re-indexes the document.
EDITABLE_FIELDS: tuple[str, ...] = ("title", "province", "doc_type", "date", "period", "issuing_body")
# Longest title / type / body accepted from a user (a longer value is a mistake, not a title).
MAX_META_CHARS = 300


class MetaError(ValueError):
    """A metadata correction that cannot be stored; the message names the field (vi + en)."""


def validate_meta(fields: dict[str, str]) -> dict[str, str]:
    """Check and normalise user-given metadata: the province is one of the 63 (or "Trung ương"),
    written with or without accents; a date is yyyy-mm-dd or dd/mm/yyyy; a period is yyyy or yyyy-yyyy.
    An empty value clears the field (the inferred value applies again)."""
    out: dict[str, str] = {}
    for key, raw in fields.items():
        if key not in EDITABLE_FIELDS:
            raise MetaError(
                f"trường «{key}» không sửa được (chỉ: {', '.join(EDITABLE_FIELDS)}) / "
                f"field {key!r} cannot be set (allowed: {', '.join(EDITABLE_FIELDS)})"
            )
        value = " ".join(str(raw or "").split())
        if len(value) > MAX_META_CHARS:
            raise MetaError(f"trường «{key}» dài quá {MAX_META_CHARS} ký tự / {key!r} is too long")
        if not value:
            out[key] = ""
        elif key == "province":
            if value.lower() in (NATIONAL.lower(), "trung uong"):
                out[key] = NATIONAL
            else:
                found = find_provinces(f"tỉnh {value}") if value not in PROVINCES else [value]
                if len(found) != 1:
                    raise MetaError(
                        f"tỉnh «{value}» không có trong danh sách 63 tỉnh, thành phố (hoặc «{NATIONAL}») / "
                        f"unknown province {value!r}"
                    )
                out[key] = found[0]
        elif key == "date":
            m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value) or None
            d = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
            y, mo, da = (
                (m.group(1), m.group(2), m.group(3))
                if m
                else (d.group(3), d.group(2), d.group(1))
                if d
                else ("", "", "")
            )
            if not y or not _real_date(int(y), int(mo), int(da)):
                raise MetaError(
                    f"ngày «{value}» không hợp lệ (yyyy-mm-dd hoặc dd/mm/yyyy) / invalid date {value!r}"
                )
            out[key] = f"{int(y):04d}-{int(mo):02d}-{int(da):02d}"
        elif key == "period":
            p = re.fullmatch(r"((?:19|20)\d{2})(?:\s*[-–]\s*((?:19|20)\d{2}))?", value)
            if not p or (p.group(2) and p.group(2) < p.group(1)):
                raise MetaError(
                    f"giai đoạn «{value}» không hợp lệ (yyyy hoặc yyyy-yyyy) / invalid period {value!r}"
                )
            out[key] = f"{p.group(1)}-{p.group(2)}" if p.group(2) else p.group(1)
        elif key == "doc_type":
            out[key] = value.lower()
        else:
            out[key] = value
    return out


def _real_date(year: int, month: int, day: int) -> bool:
    """A day that exists on the calendar (31/02 does not)."""
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name.rsplit(".", 1)[0] + META_SUFFIX)


def write_sidecar(path: Path, fields: dict[str, str]) -> Path:
    """Merge user corrections into the document's sidecar (created if absent), atomically.

    The next ingest of ``path`` re-indexes it with these values (the sidecar is part of its hash).
    """
    clean = validate_meta(fields)
    current = _read_sidecar(path)
    merged = {k: v for k, v in {**current, **clean}.items() if v}
    side = sidecar_of(path)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(side)
    return side
