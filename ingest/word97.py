"""Word 97-2003 ``.doc`` files, converted to .docx by LibreOffice (headless) and read as .docx.

Owns the conversion. Why LibreOffice rather than antiword or catdoc (all three are Debian
packages; measured on a .doc with Vietnamese text and a table, see README): all three keep the
Vietnamese letters, but antiword pads and wraps table cells and lines at 76 columns, catdoc
loses the row/cell structure of tables, and neither keeps the *fonts* — which is how a .doc typed
in TCVN3 (".VnTime") or VNI ("VNI-Times") is recognised. Converting to .docx keeps paragraphs,
tables and run fonts, so one reader (``ingest.loaders._extract_docx``) serves both formats.

Each conversion runs in a fresh LibreOffice profile (so conversions never share state or lock
each other), in its own temporary folder, under the converter limits (time, memory, output size).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ingest.converters import ConverterLimits, require_tool, run_converter
from ingest.load_errors import LoadError

__all__ = ["doc_to_docx"]

# OLE2 compound file (Word 97-2003 binary); many ".doc" files are really RTF, which LibreOffice
# also reads, so both are accepted.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_RTF_MAGIC = b"{\\rtf"
# LibreOffice starts in ~2 s and converts a long report in a few more; it runs under 512 MB.
_LIMITS = ConverterLimits(timeout_s=90.0, memory_bytes=2048 * 1024 * 1024)


def doc_to_docx(path: Path, data: bytes, max_bytes: int) -> bytes:
    """The .docx bytes LibreOffice writes for a .doc (or RTF saved as .doc); LoadError if it cannot."""
    if not (data.startswith(_OLE_MAGIC) or data.lstrip().startswith(_RTF_MAGIC)):
        raise LoadError(
            path,
            "tệp .doc hỏng hoặc không phải tài liệu Word 97-2003",
            "corrupt .doc or not a Word 97-2003 document",
        )
    soffice = require_tool(path, "soffice", "libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory(prefix="dtbd-doc-") as tmp:
        work = Path(tmp)
        source = work / "in.doc"
        source.write_bytes(data)
        out = work / "out"
        run_converter(
            path,
            [
                soffice,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--norestore",
                "--nolockcheck",
                "--nodefault",
                "--nologo",
                "--convert-to",
                "docx:MS Word 2007 XML",
                "--outdir",
                str(out),
                str(source),
            ],  # fmt: skip
            "chuyển đổi .doc (LibreOffice)",
            "converting .doc (LibreOffice)",
            _LIMITS,
            cwd=work,
        )
        result = out / "in.docx"
        if not result.exists() or result.stat().st_size == 0:
            raise LoadError(
                path,
                "tệp .doc hỏng: LibreOffice không chuyển đổi được",
                "corrupt .doc: LibreOffice could not convert it",
            )
        if result.stat().st_size > max(max_bytes * 4, 64 * 1024 * 1024):
            raise LoadError(path, "tệp .doc chuyển đổi ra quá lớn", "converted .doc is too large")
        return result.read_bytes()
