"""What a cadre does on each screen, as small steps the scenario tests share."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from playwright.sync_api import Page, expect


def big_photo(path: Path, width: int = 2400, height: int = 1800) -> Path:
    """A camera-sized PNG (a gradient, so it does not compress to nothing), written without Pillow."""
    row = bytes(b for x in range(width) for b in ((x * 255) // width, 120, 255 - (x * 255) // width))
    raw = b"".join(b"\x00" + bytes((v + y) % 256 for v in row) for y in range(0, height))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
    return path


def score(page: Page, criterion: str, value: int) -> None:
    page.locator("fieldset", has_text=criterion).get_by_text(str(value), exact=True).click()


def scores(page: Page, values: tuple[int, int, int, int, int]) -> None:
    for criterion, value in zip(["Dirasakan banyak orang", "Sangat parah / mendesak", "Menghambat pendapatan",
                                 "Sering terjadi", "Ada potensi untuk mengatasi"], values, strict=True):
        score(page, criterion, value)


def save(page: Page) -> None:
    """Saves the form on screen; the app then moves on to the list (or the new musyawarah)."""
    form_route = page.evaluate("document.getElementById('main').dataset.route")
    page.get_by_role("button", name="Simpan", exact=True).click()
    page.wait_for_function("r => document.getElementById('main').dataset.route !== r", arg=form_route)
    expect(page.get_by_text("Tersimpan di HP ini.").last).to_be_visible()


def new_pengkajian(page: Page, uraian: str, dusun: str = "Banjar Dinas Celukan", jenis: str = "Masalah") -> None:
    page.evaluate("location.hash = '#/pengkajian/baru'")
    expect(page.get_by_role("heading", name="Kajian baru")).to_be_visible()
    page.locator("label.choice", has_text=jenis).click()
    page.get_by_label("Bidang", exact=True).select_option("2")
    page.get_by_label("Uraian").fill(uraian)
    page.get_by_label("Penyebab").fill("Saluran tersumbat sampah")
    page.get_by_label("Potensi yang ada").fill("Gotong royong warga")
    page.get_by_label("Usulan tindakan").fill("Bangun drainase")
    page.get_by_label("Dusun").select_option(label=dusun)
    scores(page, (5, 4, 3, 5, 4))
    expect(page.get_by_test_id("score-summary")).to_contain_text("Total skor 21")
    save(page)
    expect(page).to_have_url(re.compile(r"#/pengkajian$"))


def new_musyawarah(page: Page, tempat: str, photo: Path | None = None, tanggal: str | None = None,
                   mulai: str | None = None, dusun: str = "Banjar Dinas Celukan") -> str:
    """Creates a musyawarah; returns its id (the app opens it to take the attendance)."""
    page.evaluate("location.hash = '#/musyawarah/baru'")
    expect(page.get_by_role("heading", name="Musyawarah baru")).to_be_visible()
    page.get_by_label("Jenis", exact=True).select_option("musyawarah_dusun")
    if tanggal:
        page.get_by_label("Tanggal").fill(tanggal)
    if mulai:
        page.get_by_label("Mulai").fill(mulai)
    page.get_by_label("Tempat").fill(tempat)
    page.get_by_label("Dusun").select_option(label=dusun)
    page.get_by_label("Pimpinan rapat").fill("I Made Sutama")
    page.get_by_label("Keputusan").fill("Drainase jadi prioritas\nKerja bakti tiap Minggu")
    if photo:
        page.get_by_test_id("photo-input").set_input_files(str(photo))
        expect(page.get_by_test_id("photos").locator("img")).to_have_count(1, timeout=20_000)
    save(page)
    expect(page).to_have_url(re.compile(r"#/musyawarah/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def attend(page: Page, names: list[tuple[str, str]]) -> None:
    """Types the daftar hadir the fast way: a name, then one tap on P or L."""
    box = page.get_by_test_id("hadir-nama")
    for nama, sex in names:
        box.fill(nama)
        page.get_by_test_id("add-p" if sex == "P" else "add-l").click()
        expect(box).to_have_value("")


def new_usulan(page: Page, kegiatan: str) -> None:
    page.evaluate("location.hash = '#/usulan/baru'")
    expect(page.get_by_role("heading", name="Usulan baru")).to_be_visible()
    page.get_by_label("Gagasan kegiatan").fill(kegiatan)
    page.get_by_label("Bidang", exact=True).select_option("2")
    page.get_by_label("Sub-bidang").select_option("2.3")
    page.get_by_label("Volume").fill("250")
    page.get_by_label("Satuan").fill("m")
    page.get_by_label("Laki-laki").fill("96")
    page.get_by_label("Perempuan", exact=True).fill("104")
    page.get_by_label("A-RTM").fill("21")
    page.get_by_label("Perkiraan biaya (Rp)").fill("87.500.000")
    expect(page.get_by_test_id("biaya-text")).to_have_text(re.compile(r"Rp\s?87\.500\.000"))
    page.get_by_label("Sumber dana").select_option("DDS")
    page.get_by_label("Dusun").select_option(label="Banjar Dinas Tegal")
    scores(page, (5, 4, 3, 5, 4))
    save(page)
    expect(page).to_have_url(re.compile(r"#/usulan$"))


def row_id(page: Page, text: str) -> str:
    """The record id of the list row showing ``text`` (other tests' records of the desa are listed too)."""
    href = page.get_by_test_id("list").locator("li", has_text=text).locator("a").get_attribute("href")
    return href.rsplit("/", 1)[1]
