"""Two musyawarah on one day: the usulan's meeting picker tells them apart by place and dusun, and every
date reads as people write it, in the language she chose."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.pages import new_musyawarah


def test_two_meetings_on_one_day_differ_in_the_usulan_picker(phones, app_on, kader) -> None:
    phone = app_on(phones())
    page = phone.page
    phone.login(*kader)
    balai = new_musyawarah(page, "Balai Banjar Dinas Celukan", tanggal="2026-12-08")
    expect(page.get_by_test_id("tanggal-text")).to_have_text("Selasa, 8 Desember 2026")
    posyandu = new_musyawarah(page, "Posyandu Melati", tanggal="2026-12-08", mulai="19:00", dusun="Banjar Dinas Tegal")

    phone.go("usulan/baru")
    picker = page.get_by_label("Asal musyawarah")
    expect(picker.locator(f"option[value='{balai}']")).to_have_text(
        "8 Des 2026 · Musyawarah dusun · Balai Banjar Dinas Celukan · Banjar Dinas Celukan")
    expect(picker.locator(f"option[value='{posyandu}']")).to_have_text(
        "8 Des 2026 19.00 · Musyawarah dusun · Posyandu Melati · Banjar Dinas Tegal")
    picker.select_option(posyandu)
    expect(page.get_by_test_id("musyawarah-text")).to_have_text(
        "8 Des 2026 19.00 · Musyawarah dusun · Posyandu Melati · Banjar Dinas Tegal")  # whole, under the closed select
    page.evaluate("location.hash = '#/musyawarah'")
    page.get_by_role("button", name="Buang isian").click()  # the choice was only a look
    phone.go("musyawarah")
    row = page.get_by_test_id("list").locator(f"li[data-id='{posyandu}']")
    expect(row).to_contain_text("Musyawarah dusun · 8 Des 2026")
    expect(row).to_contain_text("Posyandu Melati · Banjar Dinas Tegal")

    phone.go("pengaturan")
    page.get_by_test_id("language").select_option("en")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    phone.go("usulan/baru")
    expect(page.get_by_label("From musyawarah").locator(f"option[value='{posyandu}']")).to_have_text(
        re.compile(r"^8 Dec 2026 19:00 · Musyawarah dusun · Posyandu Melati · Banjar Dinas Tegal$"))
    phone.go(f"musyawarah/{balai}")
    expect(page.get_by_test_id("tanggal-text")).to_have_text(re.compile(r"^Tuesday,? 8 December 2026$"))
    assert not phone.errors
