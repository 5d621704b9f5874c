"""Turning a table into the bytes of a CSV or XLSX file that Indonesian Excel opens correctly.

CSV dialect — chosen for Excel with Indonesian regional settings, which is what desa and kecamatan
offices use:
* ``;`` between fields. In the id-ID locale the decimal separator is ``,``, so Windows' list separator
  (which Excel uses when it opens a .csv by double-click) is ``;``. A comma-separated file would land in
  column A as one long text. A ``sep=;`` first line would force it in any locale, but Excel then ignores
  the byte-order mark and garbles non-ASCII text, and the line breaks every other CSV reader: not used.
* UTF-8 with a byte-order mark: without it Excel reads the file as Windows-1252.
* CRLF line ends, fields quoted only when needed (Python's ``csv`` defaults, which Excel reads).
* Whole numbers (rupiah, people) without thousands separators, so Excel reads them as numbers;
  fractions with a decimal comma (``2,5``), as id-ID Excel expects; dates ISO (``2026-11-25``), which
  Excel recognises as dates in any locale.
* Text cells a spreadsheet would run as a formula get a leading apostrophe (OWASP "CSV injection",
  ``neutralise``): the text was typed on a phone, the file is opened on the office PC. piccolo-admin's
  own "Export CSV" gets the same treatment from the admin gate (admin/gate.py).

XLSX number formats: the format code in the file is locale-neutral (``,`` = thousands, ``.`` =
decimal) and Excel displays it with the reader's regional separators. ``[$Rp-421] #,##0`` (421 =
Indonesian, the code Excel writes itself for its "Rp Indonesian" currency) thus shows
``Rp 87.500.000`` in Indonesian Excel (and ``Rp 87,500,000`` under English settings — the same
number, never text). Dates carry ``[$-421]`` so month names are Indonesian (``25 November 2026``,
``5 Agustus 2026``) whatever the PC's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

Kind = Literal["text", "wrap", "int", "rp", "num", "pct", "date"]

FORMATS: dict[Kind, dict[str, Any]] = {
    "text": {"valign": "top"},
    "wrap": {"valign": "top", "text_wrap": True},
    "int": {"valign": "top", "num_format": "#,##0"},
    "rp": {"valign": "top", "num_format": "[$Rp-421] #,##0"},
    "num": {"valign": "top", "num_format": "General"},
    "pct": {"valign": "top", "num_format": "0.0%"},
    "date": {"valign": "top", "num_format": "[$-421]d mmmm yyyy", "align": "left"},
}
CSV_DELIMITER = ";"
# What a spreadsheet may take as the start of a formula: = + - @, tab, CR, and the full-width forms of
# the four signs (Excel and LibreOffice read ＝ as = in some locales, e.g. under a Japanese IME).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_SPACE = " \t\r\n\u00a0\u3000"
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = "text"
    width: float = 12


@dataclass(frozen=True, slots=True)
class Sum:
    """A totals cell: the sum of the column's data cells (a formula in XLSX, so edits recount)."""

    value: int | float


@dataclass(slots=True)
class Table:
    sheet: str  # worksheet name (at most 31 characters)
    title: str  # first line of the sheet, e.g. "DAFTAR GAGASAN (RANCANGAN RKPDes)"
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    totals: list[Any] | None = None  # one cell per column: a label, a value, a Sum or None


@dataclass(frozen=True, slots=True)
class Heading:
    """The lines above every sheet: where the data is from and when it was exported."""

    wilayah: str  # "Desa Gerokgak, Kecamatan Gerokgak, Kabupaten Buleleng (51.08.01.2009)"
    exported: dt.datetime  # local time of the desa


def tanggal_indonesia(day: dt.date) -> str:
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


# --- CSV ---------------------------------------------------------------------------------------------


def render_csv(table: Table) -> bytes:
    """Header row, data rows, then the totals row (if any). UTF-8 with BOM, ``;``-separated, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
    if table.totals is not None:
        writer.writerow([_csv_cell(v.value if isinstance(v, Sum) else v, c.kind)
                         for v, c in zip(table.totals, table.columns, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if kind == "pct":
            value = round(value * 100, 1)  # the header says "%": 0.524 is written 52,4
        text = str(int(value)) if value.is_integer() else repr(value)
        return text.replace(".", ",")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def neutralise(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: one that starts like a formula (``FORMULA_START``),
    also after leading spaces (some spreadsheets trim them first), gets a leading apostrophe."""
    return "'" + text if text.lstrip(_LEADING_SPACE).startswith(FORMULA_START) or text.startswith(
        FORMULA_START) else text


# --- XLSX --------------------------------------------------------------------------------------------

HEADER_ROW = 4  # 0-based: title, wilayah, export time, an empty line, then the column headings


def render_xlsx(tables: Sequence[Table], heading: Heading) -> bytes:
    """One worksheet per table: title lines, bold frozen header with a filter, data, bold totals."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"title": tables[0].title.capitalize() if tables else "", "author": "Kader",
                         "comments": heading.wilayah, "created": heading.exported.replace(tzinfo=None)})
    title_fmt = book.add_format({"bold": True, "font_size": 14})
    sub_fmt = book.add_format({"italic": True})
    head_fmt = book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "align": "center",
                                "border": 1, "bg_color": "#E2EFDA"})
    cell_fmt = {k: book.add_format({**v, "border": 1}) for k, v in FORMATS.items()}
    total_fmt = {k: book.add_format({**v, "border": 1, "bold": True, "top": 2}) for k, v in FORMATS.items()}
    for table in tables:
        sheet = book.add_worksheet(_sheet_name(table.sheet))
        sheet.write_string(0, 0, table.title, title_fmt)
        sheet.write_string(1, 0, heading.wilayah, sub_fmt)
        exported = heading.exported
        sheet.write_string(2, 0, f"Diekspor {tanggal_indonesia(exported.date())} pukul "
                                 f"{exported:%H.%M} {_zone_name(exported)} dari aplikasi Kader", sub_fmt)
        for col, column in enumerate(table.columns):
            sheet.set_column(col, col, column.width)
            sheet.write_string(HEADER_ROW, col, column.header, head_fmt)
        sheet.set_row(HEADER_ROW, 32)
        first = HEADER_ROW + 1
        for r, row in enumerate(table.rows, start=first):
            for col, (value, column) in enumerate(zip(row, table.columns, strict=True)):
                _write(sheet, r, col, value, cell_fmt[column.kind])
        last = first + len(table.rows) - 1
        if table.totals is not None:
            total_row = first + len(table.rows)
            for col, (value, column) in enumerate(zip(table.totals, table.columns, strict=True)):
                fmt = total_fmt[column.kind]
                if isinstance(value, Sum) and table.rows:
                    top, bottom = xl_rowcol_to_cell(first, col), xl_rowcol_to_cell(last, col)
                    sheet.write_formula(total_row, col, f"=SUM({top}:{bottom})", fmt, value.value)
                else:
                    _write(sheet, total_row, col, value.value if isinstance(value, Sum) else value, fmt)
        sheet.freeze_panes(first, 0)
        if table.rows:
            sheet.autofilter(HEADER_ROW, 0, last, len(table.columns) - 1)
        # Printing: landscape A4, one page wide, headings repeated on every page.
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(HEADER_ROW)
    book.close()
    return buffer.getvalue()


def _write(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, fmt)  # never write(): a text starting with "=" stays text
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()) if not isinstance(
            value, dt.datetime) else value.replace(tzinfo=None), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31]


def _zone_name(at: dt.datetime) -> str:
    offset = at.utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    return {7: "WIB", 8: "WITA", 9: "WIT"}.get(hours, f"UTC{hours:+d}")


# --- HTTP --------------------------------------------------------------------------------------------

CONTENT_TYPES = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to every text/ type itself
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def file_name(report: str, desa_code: str, desa_name: str, day: dt.date, ext: str) -> str:
    """``daftar-gagasan-51.08.01.2009-Gerokgak-2026-11-25.xlsx``: ASCII only, safe in every header."""
    ascii_name = unicodedata.normalize("NFKD", desa_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-") or "desa"
    return f"{report}-{desa_code}-{slug}-{day.isoformat()}.{ext}"


def content_disposition(name: str) -> str:
    return f'attachment; filename="{name}"'
