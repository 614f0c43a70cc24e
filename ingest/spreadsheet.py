"""Spreadsheets (.xlsx via openpyxl, .xls via xlrd): each sheet read as a table.

Owns the reading of a sheet's grid (merged cells filled from their top-left cell) and its
interpretation as a Vietnamese administrative table: title rows (one merged value across the
table), header rows (one or more, e.g. "Năm" merged over "2021 | 2022"), label columns (the
row headers, and the "STT" numbering column, which is a label and never a figure), and data
rows. Every data row becomes one line that keeps the table title, the row label and each
figure's column header together:

    "Số học viên tốt nghiệp theo xếp loại: Xếp loại Giỏi; Năm 2021: 12; Năm 2022: 15."

so a figure never loses what it counts, and the extractive answer path can answer "số học
viên tốt nghiệp loại giỏi năm 2021" from that row. Each line's span records the sheet and
the cell range (``TextSpan.sheet``/``cells``) so a citation can say "bảng «Kết quả», ô A5:C5".
Numbers are written the Vietnamese way (decimal comma: 21,6; percent cells as 21,6%).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import legacy_encoding
from ingest.load_errors import LoadError, describe, fmt_mb
from ingest.models import TextSpan

__all__ = ["MAX_CELLS", "read_workbook"]

# A workbook with more filled cells than this is a data dump, not a report table (2 million
# cells is ~40 MB of text); refused rather than turned into a text nobody can cite.
MAX_CELLS = 2_000_000
# An .xlsx is a zip: refuse archives that inflate far beyond the on-disk limit (as .docx).
_INFLATE_FACTOR = 20
_MIN_INFLATE_LIMIT = 200 * 1024 * 1024
_STT = re.compile(r"^(?:s\.?\s*tt|số\s*tt|tt|stt)\.?$", re.I)  # the numbering column of Vietnamese tables
_YEAR = re.compile(r"^(?:19|20)\d{2}$")


@dataclass
class _Cell:
    text: str
    numeric: bool


@dataclass
class _Sheet:
    name: str
    rows: list[list[_Cell]]  # rectangular; row i is spreadsheet row i+1, column j is column j+1


def read_workbook(
    path: Path, data: bytes, kind: str, max_bytes: int
) -> tuple[list[tuple[str, TextSpan]], str | None]:
    """(lines with their sheet/cell spans, workbook title) of an .xlsx or .xls file."""
    sheets, title = _read_xlsx(path, data, max_bytes) if kind == "xlsx" else _read_xls(path, data)
    _fix_legacy_cells(sheets)
    pieces: list[tuple[str, TextSpan]] = []
    for sheet in sheets:
        pieces.extend(_table_lines(sheet))
    if not pieces:
        raise LoadError(path, "bảng tính không có ô nào có dữ liệu", "spreadsheet has no filled cells")
    return pieces, title


def _fix_legacy_cells(sheets: list[_Sheet]) -> None:
    """Cells typed in a TCVN3 or VNI font (common in older result tables) converted to Unicode.

    Judged on the workbook's text as a whole (a single cell is too little evidence), per sheet
    name too; cells are converted in place (merged cells share one object: converted once).
    """
    cells = {id(c): c for sh in sheets for row in sh.rows for c in row if c.text and not c.numeric}
    sample = " ".join([sh.name for sh in sheets] + [c.text for c in cells.values()])
    encoding = legacy_encoding.detect_text(sample)
    if encoding is None:
        return
    for cell in cells.values():
        cell.text = legacy_encoding.convert(cell.text, encoding)
    for sh in sheets:
        sh.name = legacy_encoding.convert(sh.name, encoding)


# --- reading the grid ------------------------------------------------------------------------


def _corrupt(path: Path, kind: str, exc: BaseException) -> LoadError:
    return LoadError(path, f"tệp {kind} hỏng", f"corrupt {kind}: {describe(exc)}")


def _read_xlsx(path: Path, data: bytes, max_bytes: int) -> tuple[list[_Sheet], str | None]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _corrupt(path, ".xlsx", exc) from exc
    limit = max(max_bytes * _INFLATE_FACTOR, _MIN_INFLATE_LIMIT)
    if inflated > limit:
        raise LoadError(
            path,
            f"tệp .xlsx giải nén quá lớn ({fmt_mb(inflated)})",
            f"xlsx inflates too large ({fmt_mb(inflated)} > {fmt_mb(limit)})",
        )
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, InvalidFileException, lxml errors …
        raise _corrupt(path, ".xlsx", exc) from exc
    title = (wb.properties.title or "").strip() or None
    sheets: list[_Sheet] = []
    cells = 0
    for ws in wb.worksheets:
        grid: list[list[_Cell]] = []
        for row in ws.iter_rows():
            cells += len(row)
            if cells > MAX_CELLS:
                raise _too_many_cells(path)
            grid.append([_xlsx_cell(c) for c in row])
        for rng in ws.merged_cells.ranges:
            _fill_merged(grid, rng.min_row - 1, rng.max_row - 1, rng.min_col - 1, rng.max_col - 1)
        sheets.append(_Sheet(ws.title, grid))
    return sheets, title


def _xlsx_cell(cell: Any) -> _Cell:
    value = cell.value
    percent = "%" in (getattr(cell, "number_format", "") or "")
    return _format(value, percent)


def _read_xls(path: Path, data: bytes) -> tuple[list[_Sheet], str | None]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct.error …
        raise _corrupt(path, ".xls", exc) from exc
    sheets: list[_Sheet] = []
    cells = 0
    try:
        for index in range(book.nsheets):
            sh = book.sheet_by_index(index)
            cells += sh.nrows * sh.ncols
            if cells > MAX_CELLS:
                raise _too_many_cells(path)
            grid: list[list[_Cell]] = []
            for r in range(sh.nrows):
                row: list[_Cell] = []
                for c in range(sh.ncols):
                    cell = sh.cell(r, c)
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        value: Any = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
                    elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                        value = None
                    else:
                        value = cell.value
                    fmt = (
                        book.format_map.get(book.xf_list[cell.xf_index].format_key) if cell.xf_index else None
                    )
                    row.append(_format(value, bool(fmt and "%" in fmt.format_str)))
                grid.append(row)
            for rlo, rhi, clo, chi in sh.merged_cells:
                _fill_merged(grid, rlo, rhi - 1, clo, chi - 1)
            sheets.append(_Sheet(sh.name, grid))
            book.unload_sheet(index)
    except LoadError:
        raise
    except Exception as exc:
        raise _corrupt(path, ".xls", exc) from exc
    return sheets, None


def _too_many_cells(path: Path) -> LoadError:
    return LoadError(
        path,
        f"bảng tính quá nhiều ô (> {MAX_CELLS:,} ô)".replace(",", "."),
        f"spreadsheet has too many cells (> {MAX_CELLS:,})",
    )


def _fill_merged(grid: list[list[_Cell]], r0: int, r1: int, c0: int, c1: int) -> None:
    if r0 >= len(grid) or c0 >= len(grid[r0]):
        return
    top_left = grid[r0][c0]
    for r in range(r0, min(r1, len(grid) - 1) + 1):
        for c in range(c0, min(c1, len(grid[r]) - 1) + 1):
            grid[r][c] = top_left


def _format(value: Any, percent: bool) -> _Cell:
    """A cell as Vietnamese text: decimal comma, percent cells as "21,6%", dates as dd/mm/yyyy."""
    if value is None:
        return _Cell("", False)
    if isinstance(value, bool):
        return _Cell("có" if value else "không", False)
    if isinstance(value, int | float):
        number = float(value) * (100 if percent else 1)
        if number.is_integer():
            text = str(int(number))
        else:
            text = f"{number:.4f}".rstrip("0").rstrip(".").replace(".", ",")
        return _Cell(text + ("%" if percent else ""), True)
    if isinstance(value, dt.datetime | dt.date):
        return _Cell(value.strftime("%d/%m/%Y"), False)
    text = " ".join(str(value).split())
    return _Cell(text, bool(re.fullmatch(r"-?\d+(?:[.,]\d+)?%?", text)))


# --- interpreting the table -----------------------------------------------------------------


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cells(r0: int, c0: int, r1: int, c1: int) -> str:
    first, last = f"{_col_letter(c0)}{r0 + 1}", f"{_col_letter(c1)}{r1 + 1}"
    return first if first == last else f"{first}:{last}"


def _distinct(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


def _header(parts: list[str]) -> str:
    """A column header from its levels, top to bottom; a bare year reads "năm 2021" (a year
    column of a Vietnamese table), so the year is never taken for a figure."""
    words = " ".join(parts)
    if _YEAR.match(words):
        return f"năm {words}"
    return words


def _table_lines(sheet: _Sheet) -> list[tuple[str, TextSpan]]:
    rows = [i for i, row in enumerate(sheet.rows) if any(c.text for c in row)]
    if not rows:
        return []
    width = max((j + 1 for i in rows for j, c in enumerate(sheet.rows[i]) if c.text), default=0)
    grid = sheet.rows
    pieces: list[tuple[str, TextSpan]] = []

    def span(r0: int, r1: int) -> TextSpan:
        return TextSpan(0, 0, sheet=sheet.name, cells=_cells(r0, 0, r1, width - 1))

    # Title rows: one value across the whole row (usually a merged cell).
    k = 0
    titles: list[str] = []
    while k < len(rows) and width > 1 and len(_distinct([c.text for c in grid[rows[k]][:width]])) == 1:
        titles.append(_distinct([c.text for c in grid[rows[k]][:width]])[0])
        k += 1
    table_title = " – ".join(titles)
    pieces.append(
        (
            f"Bảng «{sheet.name}»: {' – '.join(titles)}" if titles else f"Bảng «{sheet.name}»",
            span(rows[0], rows[max(k - 1, 0)]),
        )
    )
    body = rows[k:]
    if not body:
        return pieces

    # Header rows: the first row after the titles, then rows without figures (a row of years
    # with an empty first cell is a second header level: "Năm" over "2021 | 2022").
    def is_header(i: int) -> bool:
        row = grid[i][:width]
        nums = [c for c in row[1:] if c.numeric]
        if not nums:
            return True
        return not row[0].text and all(_YEAR.match(c.text) for c in nums)

    h = 1
    while h < len(body) and is_header(body[h]) and h < 4:
        h += 1
    headers, data = body[:h], body[h:]
    if not data or not any(c.numeric for i in data for c in grid[i][:width]):
        for i in body:  # no figures: a list, not a table — one line per row, cells joined
            text = " | ".join(_distinct([c.text for c in grid[i][:width]]))
            pieces.append((text, span(i, i)))
        return pieces

    col_header = [
        _header(_distinct([grid[i][j].text for i in headers])) or _col_letter(j) for j in range(width)
    ]
    # The header row itself, as a line: shown with the rows in the sources panel, and it puts the
    # table's title before the first data row as before every other one.
    lead = f"{table_title}: " if table_title else ""
    pieces.append((f"{lead}các cột {' | '.join(col_header)}.", span(headers[0], headers[-1])))
    stt = [bool(_STT.match(col_header[j])) for j in range(width)]
    labels: list[int] = []
    for j in range(width):
        texty = sum(1 for i in data if grid[i][j].text and not grid[i][j].numeric)
        years = all(_YEAR.match(grid[i][j].text) for i in data if grid[i][j].text)
        if stt[j] or texty * 2 >= len(data) or (j == 0 and years):  # a first column of years is the time axis
            labels.append(j)
        else:
            break
    for i in data:
        row = grid[i][:width]
        own = [j for j in labels if not stt[j] and row[j].text]
        label_parts = [row[j].text for j in own]
        merged = any(row[j] is row[k] for j in own for k in range(width) if k != j)
        if len(own) == 1 and not merged and col_header[own[0]] != _col_letter(own[0]):
            label = f"{col_header[own[0]]} {label_parts[0]}"  # "Xếp loại Giỏi", "Năm 2022"
        else:  # a summary row whose label spans the label columns ("Tổng cộng") stands alone
            label = " – ".join(_distinct(label_parts))
        # Each figure's clause carries the table title, its row label and column header.
        prefix = f"{table_title} – " if table_title else ""
        suffix = f" – {label}" if label else ""
        figures = [
            f"{prefix}{col_header[j]}: {row[j].text}{suffix}"
            for j in range(width)
            if j not in labels and row[j].text
        ]
        if figures:
            pieces.append(("; ".join(figures) + ".", span(i, i)))
    return pieces
