"""Upload storage: files that arrive through the app or the API, saved under ``corpus/uploads/``.

What this stage owns (and guarantees, see the README's security section):

* **Names.** Directories, ``..``, control and odd characters are removed; a name is cut to
  ``MAX_NAME_BYTES`` of UTF-8 so the file system never refuses it (no 500 for 300 letters).
* **No shared temp file.** Each upload is streamed into its own hidden temp file
  (``.upload-<pid>-<random>``; ``discover`` skips hidden files), then linked into place.
* **Never over another upload.** A same-name upload with other content is kept beside the old
  one (``name (2).txt``) unless the caller asks to ``replace``; identical content under the same
  name is the same file (reported unchanged).
* **Who and when.** ``corpus/.uploads.json`` (a small JSON ledger beside the uploads folder,
  written atomically under a file lock; hidden, so never ingested) records, per stored file: original name, sender, client address, time, size, hash.
* **Rollback.** Files the loader refuses, and every file of a batch whose indexing fails, are
  removed again (a replaced file gets its previous content back). An upload is ``pending`` in
  the ledger until it is indexed; ``recover_uploads`` (run when a server starts) rolls back the
  pending uploads of a process that died, and removes its temp files, so a later run never
  trips over a half-saved upload.
* **Delete and correct.** ``delete_upload`` removes the file, its sidecar, its ledger record and
  its chunks; ``write_upload_meta`` corrects its metadata (the sidecar), recording who and when.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.settings import IngestSettings

__all__ = [
    "UPLOAD_SUBDIR",
    "UPLOAD_SUFFIXES",
    "Indexer",
    "UploadRecord",
    "UploadRejected",
    "UploadResult",
    "delete_upload",
    "ingest_uploads",
    "list_uploads",
    "recover_uploads",
    "remove_from_index",
    "safe_upload_name",
    "upload_dir",
    "write_upload_meta",
]

# Whatever the loader table reads can be uploaded (one list: a new format is uploadable at once),
# except saved web pages: they carry scripts, trackers and remote references, so they are read
# only from the corpus folder the operator controls.
UPLOAD_SUFFIXES: tuple[str, ...] = tuple(sorted(SUPPORTED_SUFFIXES - {".html", ".htm"}))
UPLOAD_SUBDIR = "uploads"
LEDGER_NAME = ".uploads.json"
LOCK_NAME = ".uploads.lock"
_TMP_PREFIX = ".upload-"
_BACKUP_PREFIX = ".replaced-"
# Most file systems allow 255 bytes per name; the stem is cut well below that so " (NNN)" and
# the ".meta.yaml" sidecar suffix still fit.
MAX_NAME_BYTES = 200
MAX_STEM_CHARS = 120  # what a person can still read in the document list
MAX_SAME_NAME = 999  # "name (2)" … "name (999)"; beyond that the upload is refused
_COPY_CHUNK = 1024 * 1024


class UploadRejected(ValueError):
    """An upload refused before anything was stored (bilingual message naming the file)."""


class Indexer(Protocol):
    """What uploads need from the service: index these files (``Assistant`` fits)."""

    def ingest(self, paths: list[Path], progress: Any = None) -> Any: ...


@dataclass
class UploadRecord:
    """One stored upload, as the ledger keeps it."""

    name: str  # the stored file name inside uploads/
    original_name: str
    sender: str
    client: str
    uploaded_at: str  # ISO 8601, UTC
    size: int
    sha256: str
    status: str = "pending"  # "pending" until indexed, then "indexed"
    pid: int = 0  # the process that stored it (for crash recovery)
    replaced: str = ""  # who uploaded the version this one replaced, if any
    backup: str = ""  # while pending: hidden copy of the replaced version (put back on failure)
    previous: dict[str, Any] | None = None  # while pending: the replaced version's record
    edited_by: str = ""  # who last corrected its metadata (PATCH /uploads/{name})
    edited_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class UploadResult:
    """What ``POST /ingest`` returns and the UI shows."""

    files: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks_added: int = 0
    chunks_total: int = 0
    errors: list[str] = field(default_factory=list)
    summary: str = ""
    renamed: dict[str, str] = field(default_factory=dict)  # sent name -> name it was kept under

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- names ----------------------------------------------------------------------------------------
def _cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def safe_upload_name(name: str) -> str:
    """A file name safe to create inside the uploads folder, keeping Vietnamese letters and spaces.

    Directories are stripped (both ``/`` and ``\\``), ``..`` is refused, characters other than
    letters, digits, spaces and ``-_.()`` become ``_``, the suffix must be one we ingest, and
    the name is cut to ``MAX_STEM_CHARS`` characters and ``MAX_NAME_BYTES`` bytes.
    """
    raw = unicodedata.normalize("NFC", name or "")
    if ".." in raw:
        raise UploadRejected(f"{raw!r}: tên tệp chứa '..' (file name contains '..')")
    base = re.split(r"[\\/]", raw)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "_", base)
    base = re.sub(r"[^\w\s().-]", "_", base)
    base = re.sub(r"\s+", " ", base).strip(" .")
    suffix = Path(base).suffix.lower()
    stem = base[: -len(suffix)].strip() if suffix else base
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRejected(
            f"{_cut_bytes(raw, 120)}: chỉ nhận tệp {', '.join(UPLOAD_SUFFIXES)} "
            f"(unsupported file type; accepted: {', '.join(UPLOAD_SUFFIXES)})"
        )
    if not stem:
        raise UploadRejected(f"{raw!r}: tên tệp trống (empty file name)")
    stem = _cut_bytes(stem[:MAX_STEM_CHARS], MAX_NAME_BYTES - len(suffix)).rstrip(" .")
    if not stem:
        raise UploadRejected(f"{raw!r}: tên tệp trống (empty file name)")
    return stem + suffix


def upload_dir(corpus_dir: Path | str) -> Path:
    return Path(corpus_dir) / UPLOAD_SUBDIR


def _numbered(safe: str, n: int) -> str:
    if n == 1:
        return safe
    suffix = Path(safe).suffix
    return f"{safe[: -len(suffix)]} ({n}){suffix}"


# -- the ledger ---------------------------------------------------------------------------------
@contextlib.contextmanager
def _ledger_lock(dest: Path) -> Iterator[None]:
    """One writer of the uploads folder at a time (threads and processes)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / LOCK_NAME).open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_ledger(dest: Path) -> dict[str, dict[str, Any]]:
    path = dest.parent / LEDGER_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):  # a damaged ledger loses the who/when, never the files
        return {}
    return data if isinstance(data, dict) else {}


def _write_ledger(dest: Path, ledger: dict[str, dict[str, Any]]) -> None:
    tmp = dest.parent / f"{LEDGER_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    tmp.write_text(json.dumps(ledger, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, dest.parent / LEDGER_NAME)


def list_uploads(corpus_dir: Path | str) -> list[UploadRecord]:
    """Every upload the ledger knows, oldest first."""
    dest = upload_dir(corpus_dir)
    fields = set(UploadRecord.__dataclass_fields__)
    records = [
        UploadRecord(**{k: v for k, v in rec.items() if k in fields})
        for rec in _read_ledger(dest).values()
        if isinstance(rec, dict) and {"name", "original_name", "sender"} <= rec.keys()
    ]
    return sorted(records, key=lambda r: (r.uploaded_at, r.name))


# -- storing ----------------------------------------------------------------------------------
@dataclass
class _Saved:
    path: Path
    record: UploadRecord
    backup: Path | None  # the replaced file's previous content, until the batch is indexed
    previous_record: dict[str, Any] | None
    new: bool  # False: identical content was already stored under this name


def _spool(dest: Path, content: IO[bytes] | Path, max_bytes: int) -> tuple[Path, int, str] | str:
    """Stream ``content`` into a fresh hidden temp file; (temp, size, sha256) or an error key."""
    tmp = dest / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
    digest = hashlib.sha256()
    size = 0
    src: IO[bytes] = content.open("rb") if isinstance(content, Path) else content
    try:
        with tmp.open("xb") as out:
            while chunk := src.read(_COPY_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    break
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if isinstance(content, Path):
            src.close()
    if size > max_bytes:
        tmp.unlink(missing_ok=True)
        return "too_big"
    if size == 0:
        tmp.unlink(missing_ok=True)
        return "empty"
    return tmp, size, digest.hexdigest()


def _same_content(path: Path, sha: str) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_COPY_CHUNK):
            h.update(chunk)
    return h.hexdigest() == sha


def _place(dest: Path, tmp: Path, safe: str, sha: str, replace: bool, record: UploadRecord) -> _Saved:
    """Move the temp file to its final name (under the ledger lock) and record it as pending."""
    ledger = _read_ledger(dest)
    target = dest / safe
    if replace:
        backup = None
        if target.is_file() and not target.is_symlink():
            if _same_content(target, sha):
                tmp.unlink()
                return _Saved(target, record, None, None, new=False)
            backup = dest / f"{_BACKUP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
            os.link(target, backup)
        previous = ledger.get(safe)
        os.replace(tmp, target)  # replaces a symlink itself, never writes through it
        record.name = safe
        record.replaced = str((previous or {}).get("sender", "")) or ("?" if backup else "")
        record.backup = backup.name if backup else ""
        record.previous = previous
        ledger[safe] = record.to_json()
        _write_ledger(dest, ledger)
        return _Saved(target, record, backup, previous, new=True)
    for n in range(1, MAX_SAME_NAME + 1):
        candidate = dest / _numbered(safe, n)
        if _same_content(candidate, sha):
            tmp.unlink()
            return _Saved(candidate, record, None, None, new=False)
        try:
            os.link(tmp, candidate)  # atomic: fails if the name is taken (a file or a symlink)
        except FileExistsError:
            continue
        tmp.unlink()
        record.name = candidate.name
        ledger[candidate.name] = record.to_json()
        _write_ledger(dest, ledger)
        return _Saved(candidate, record, None, None, new=True)
    tmp.unlink()
    raise UploadRejected(
        f"{safe}: đã có quá nhiều tệp cùng tên (too many files with this name; max {MAX_SAME_NAME})"
    )


def _rollback(dest: Path, saved: list[_Saved]) -> None:
    with _ledger_lock(dest):
        ledger = _read_ledger(dest)
        for s in saved:
            if not s.new:
                continue
            if s.backup is not None:
                os.replace(s.backup, s.path)
            else:
                s.path.unlink(missing_ok=True)
            if s.previous_record is not None:
                ledger[s.path.name] = s.previous_record
            else:
                ledger.pop(s.path.name, None)
        _write_ledger(dest, ledger)


def _commit(dest: Path, saved: list[_Saved]) -> None:
    with _ledger_lock(dest):
        ledger = _read_ledger(dest)
        for s in saved:
            if not s.new:
                continue
            if s.backup is not None:
                s.backup.unlink(missing_ok=True)
            if s.path.name in ledger:
                ledger[s.path.name].update(status="indexed", backup="", previous=None)
        _write_ledger(dest, ledger)


def ingest_uploads(
    indexer: Indexer,
    settings: IngestSettings,
    items: Iterable[tuple[str, IO[bytes] | Path]],
    progress: Callable[[int, int, str], None] | None = None,
    *,
    max_bytes: int | None = None,
    sender: str = "",
    client: str = "",
    replace: bool = False,
) -> UploadResult:
    """Save ``(name, content)`` uploads under ``corpus_dir/uploads`` and index them.

    Rejected files (type, size, name) and files the loader refuses are reported per file in
    ``errors`` and leave nothing behind; the others are indexed and searchable at once. If the
    indexing itself fails (an ``IndexError_``), the whole batch is rolled back and it re-raises.
    ``max_bytes`` defaults to ``settings.max_upload_mb`` when the settings carry it.
    """
    if max_bytes is None:
        mb = float(getattr(settings, "max_upload_mb", settings.max_file_mb))
        max_bytes = int(mb * 1024 * 1024)
    mb_shown = f"{max_bytes / 1024 / 1024:.3g}"
    result = UploadResult()
    dest = upload_dir(settings.corpus_dir)
    saved: list[_Saved] = []
    for name, content in items:
        try:
            safe = safe_upload_name(name)
            dest.mkdir(parents=True, exist_ok=True)
            spooled = _spool(dest, content, max_bytes)
            if spooled == "too_big":
                result.errors.append(f"{safe}: tệp lớn hơn {mb_shown} MB (file larger than {mb_shown} MB)")
                continue
            if spooled == "empty":
                result.errors.append(f"{safe}: tệp rỗng (empty file)")
                continue
            assert not isinstance(spooled, str)
            tmp, size, sha = spooled
            record = UploadRecord(
                name=safe,
                original_name=_cut_bytes(unicodedata.normalize("NFC", name or ""), 400),
                sender=sender or "",
                client=client or "",
                uploaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                size=size,
                sha256=sha,
                pid=os.getpid(),
            )
            with _ledger_lock(dest):
                placed = _place(dest, tmp, safe, sha, replace, record)
        except UploadRejected as e:
            result.errors.append(str(e))
            continue
        except OSError as e:  # the disk refused (full, name, permissions): this file only
            shown = safe_or(name)
            result.errors.append(f"{shown}: không lưu được tệp (cannot store the file: {e.strerror or e})")
            continue
        if placed.path.name != safe:
            result.renamed[safe] = placed.path.name
        saved.append(placed)
    if not saved:
        result.summary = "Không có tệp nào được nạp / no file was ingested"
        return result
    try:
        report = indexer.ingest([s.path for s in saved], progress=progress)
    except BaseException:
        _rollback(dest, saved)
        raise
    failed: list[_Saved] = []
    for err in report.errors:
        shown = err
        for s in saved:
            if str(s.path) in err:
                failed.append(s)
                shown = err.replace(str(s.path), s.path.name)
        result.errors.append(shown)
    _rollback(dest, failed)  # a file we cannot read must not linger in the corpus
    ok = [s for s in saved if s not in failed]
    _commit(dest, ok)
    result.files = list(dict.fromkeys(s.path.name for s in ok))
    result.added = report.docs_added
    result.updated = report.docs_updated
    result.unchanged = report.docs_skipped
    result.chunks_added = report.chunks_added
    result.chunks_total = report.chunks_total
    result.summary = report.summary()
    return result


def safe_or(name: str) -> str:
    """The safe name when there is one, else the raw name cut short (for messages)."""
    try:
        return safe_upload_name(name)
    except UploadRejected:
        return _cut_bytes(name or "", 120)


# -- delete and recovery ----------------------------------------------------------------------------
def remove_from_index(settings: IngestSettings, sources: list[str]) -> int:
    """Delete the chunks of the documents stored under ``sources`` (relative paths); chunks removed."""
    from ingest.embeddings import embedder_name, get_embeddings
    from ingest.index import VectorIndex, index_failure, sync_lexical
    from ingest.pipeline import index_lock

    wanted = set(sources)
    index_dir = Path(settings.index_dir)
    with index_lock(index_dir):
        try:
            vectors = VectorIndex(settings, embedder_name(get_embeddings(settings)))
            ids = sorted(cid for st in vectors.doc_states().values() if st.source in wanted for cid in st.ids)
            vectors.delete(ids)
            sync_lexical(index_dir, vectors, force=False)
        except OSError as e:
            raise index_failure(
                settings, "Không xóa được khỏi chỉ mục", "cannot delete from the index", e
            ) from e
    return len(ids)


def delete_upload(settings: IngestSettings, name: str) -> UploadRecord | None:
    """Delete one upload (file, sidecar, ledger record, chunks). The record, or None if unknown.

    ``name`` is the stored name as ``GET /uploads`` lists it; anything that is not a plain name
    of a file directly inside uploads/ is refused (``UploadRejected``).
    """
    dest = upload_dir(settings.corpus_dir)
    plain = _plain_upload_name(name)
    target = dest / plain
    with _ledger_lock(dest):
        ledger = _read_ledger(dest)
        rec = ledger.pop(plain, None)
        if rec is None and not (target.is_file() or target.is_symlink()):
            return None
        target.unlink(missing_ok=True)
        sidecar = dest / (plain.rsplit(".", 1)[0] + ".meta.yaml")
        sidecar.unlink(missing_ok=True)
        _write_ledger(dest, ledger)
    remove_from_index(settings, [f"{UPLOAD_SUBDIR}/{plain}"])
    fields = set(UploadRecord.__dataclass_fields__)
    if rec is None:
        return UploadRecord(
            name=plain, original_name=plain, sender="", client="", uploaded_at="", size=0, sha256=""
        )
    return UploadRecord(**{k: v for k, v in rec.items() if k in fields})


# Metadata a person may correct on an upload (the sidecar's keys, see ingest/corpus.py).
EDITABLE_META = ("title", "province", "issuing_body", "doc_type", "date", "period", "source")
MAX_META_CHARS = 300  # a title or a body's name; longer is not metadata


def _plain_upload_name(name: str) -> str:
    plain = unicodedata.normalize("NFC", name or "")
    if not plain or plain != Path(plain).name or plain.startswith(".") or "\\" in plain:
        raise UploadRejected(f"{_cut_bytes(plain, 120)!r}: tên tệp không hợp lệ (invalid file name)")
    return plain


def write_upload_meta(
    settings: IngestSettings, name: str, fields: dict[str, str], sender: str = ""
) -> Path | None:
    """Correct an upload's metadata: merge ``fields`` into its sidecar ``<stem>.meta.yaml``.

    Returns the upload's path (to re-ingest: the sidecar is part of the document's hash), or
    None if there is no such upload. Unknown keys, non-text or over-long values are refused.
    """
    import yaml

    plain = _plain_upload_name(name)
    unknown = sorted(set(fields) - set(EDITABLE_META))
    if unknown:
        raise UploadRejected(
            f"{plain}: không sửa được trường {', '.join(unknown)} (editable fields: {', '.join(EDITABLE_META)})"
        )
    clean: dict[str, str] = {}
    for key, value in fields.items():
        if not isinstance(value, str):
            raise UploadRejected(f"{plain}: {key} phải là chuỗi ký tự ({key} must be a string)")
        text = " ".join(unicodedata.normalize("NFC", value).split())
        if len(text) > MAX_META_CHARS or re.search(r"[\x00-\x1f\x7f]", text):
            raise UploadRejected(
                f"{plain}: {key} quá dài hoặc có ký tự điều khiển "
                f"({key} longer than {MAX_META_CHARS} characters or has control characters)"
            )
        clean[key] = text
    dest = upload_dir(settings.corpus_dir)
    target = dest / plain
    with _ledger_lock(dest):
        if target.is_symlink() or not target.is_file():
            return None
        sidecar = dest / (plain.rsplit(".", 1)[0] + ".meta.yaml")
        current: dict[str, Any] = {}
        if sidecar.is_file() and not sidecar.is_symlink():
            try:
                loaded = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
                current = loaded if isinstance(loaded, dict) else {}
            except (yaml.YAMLError, UnicodeDecodeError):
                current = {}
        merged = {**current, **{k: v for k, v in clean.items() if v}}
        for k, v in clean.items():
            if not v:
                merged.pop(k, None)  # an empty value clears the correction (inferred again)
        tmp = dest / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
        tmp.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=True), encoding="utf-8")
        os.replace(tmp, sidecar)
        ledger = _read_ledger(dest)
        if plain in ledger:
            ledger[plain].update(edited_by=sender, edited_at=datetime.now(UTC).isoformat(timespec="seconds"))
            _write_ledger(dest, ledger)
    return target


def pid_alive(pid: int) -> bool:
    """Whether a process with this id still runs (another user's counts as running)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_uploads(corpus_dir: Path | str) -> list[str]:
    """Roll back what a killed process left half done; the names removed.

    Temp files and replaced-file backups of dead processes are removed (a backup is put back
    first if its upload never got indexed), and ``pending`` uploads of dead processes are
    deleted, so neither the next ingest nor the next upload trips over them.
    """
    dest = upload_dir(corpus_dir)
    if not dest.is_dir():  # no upload ever started here: nothing is half saved, and nothing is written
        return []
    removed: list[str] = []
    with _ledger_lock(dest):
        ledger = _read_ledger(dest)
        before = dict(ledger)
        for name, rec in list(ledger.items()):
            if not isinstance(rec, dict):
                ledger.pop(name)
                continue
            pid = int(rec.get("pid", 0) or 0)
            if rec.get("status") == "pending" and pid != os.getpid() and not pid_alive(pid):
                backup = dest / str(rec.get("backup") or "")
                if rec.get("backup") and backup.is_file():
                    os.replace(backup, dest / name)  # the replaced version comes back
                else:
                    (dest / name).unlink(missing_ok=True)
                previous = rec.get("previous")
                if isinstance(previous, dict):
                    ledger[name] = previous
                else:
                    ledger.pop(name)
                removed.append(name)
        for p in dest.iterdir():
            for prefix in (_TMP_PREFIX, _BACKUP_PREFIX):
                if not p.name.startswith(prefix):
                    continue
                pid_part = p.name[len(prefix) :].split("-", 1)[0]
                pid = int(pid_part) if pid_part.isdigit() else 0
                if pid == os.getpid() or pid_alive(pid):
                    continue
                p.unlink(missing_ok=True)
                removed.append(p.name)
        if ledger != before:
            _write_ledger(dest, ledger)
    return removed
