"""Exports for the kecamatan office (daftar gagasan / RKPDes draft, needs-assessment and musyawarah recaps,
as CSV and XLSX) and the numbers of the admin's dashboard. Read-only: nothing here writes a synced row.

``queries`` holds the SQL (every query filtered by the caller's scope prefix), ``reports`` shapes rows
into tables with Indonesian headings, ``render`` turns a table into CSV or XLSX bytes, ``dashboard``
counts per desa, and ``routes`` are the thin ``/api`` handlers.
"""
