"""Two phones of one desa change the same field offline: the second sees a conflict, settles it, and
both phones end with the same value; the server keeps the history."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.conftest import DESA_GEROKGAK, LiveServer, Store
from tests.pwa.conftest import off_loop
from tests.pwa.pages import new_pengkajian, row_id, save


def edit_uraian(page, rid: str, text: str) -> None:
    page.evaluate("r => { location.hash = '#/pengkajian/' + r; }", rid)
    page.get_by_label("Uraian").fill(text)
    save(page)


def test_two_phones_editing_one_field_offline_meet_in_a_conflict_she_settles(
        phones, app_on, kader, store: Store, server: LiveServer, shots) -> None:
    siti = app_on(phones())
    ayu = app_on(phones())
    siti.login(*kader)
    ayu.login(*off_loop(store.user, "kader", DESA_GEROKGAK))
    new_pengkajian(siti.page, "Sumur warga kering di musim kemarau")
    siti.sync()
    rid = row_id(siti.page, "Sumur warga kering di musim kemarau")
    ayu.sync()

    for phone in (siti, ayu):
        phone.context.set_offline(True)
    edit_uraian(siti.page, rid, "Sumur warga kering, air harus dibeli")
    siti.go(f"pengkajian/{rid}")
    shots(siti.page, "09-pengkajian-form")
    edit_uraian(ayu.page, rid, "Sumur warga kering sejak Juli")
    siti.context.set_offline(False)
    siti.expect_unsent(0)
    ayu.context.set_offline(False)
    ayu.expect_unsent(0)

    ayu.go("")
    expect(ayu.page.get_by_test_id("attention-conflicts")).to_have_text(re.compile(r"^[1-9]\d* konflik perlu dipilih$"))
    ayu.go("konflik")
    card = ayu.page.get_by_test_id("conflict").filter(has_text="Sumur warga kering")
    field = card.locator("fieldset[data-field=uraian]")
    expect(field.locator(".side", has_text="Nilai Anda")).to_contain_text("Sumur warga kering sejak Juli")
    expect(field.locator(".side", has_text="Nilai di server")).to_contain_text("Sumur warga kering, air harus dibeli")
    shots(ayu.page, "05-konflik")
    field.get_by_role("textbox", name="Ketik nilai baru").fill("Sumur warga kering sejak Juli, air harus dibeli")
    card.get_by_role("button", name="Simpan pilihan").click()
    expect(card).to_have_count(0)

    siti.sync()
    for phone in (siti, ayu):
        phone.go(f"pengkajian/{rid}")
        expect(phone.page.get_by_label("Uraian")).to_have_value("Sumur warga kering sejak Juli, air harus dibeli")
        expect(phone.page.get_by_test_id("review")).not_to_contain_text("konflik")

    token = server.login(*kader, device="pemeriksa")
    with server.client(token) as c:
        history = c.get(f"/api/sync/records/pengkajian/{rid}/history").json()
    assert [h["op"] for h in history] == ["create", "update", "flag", "resolve"]
    assert history[-1]["changes"]["uraian"][1] == "Sumur warga kering sejak Juli, air harus dibeli"
    db_id = rid if store.url.startswith("sqlite") else uuid.UUID(rid)
    held = off_loop(store.scalar, "SELECT count(*) FROM conflicts WHERE record_id = :r AND resolved_at IS NOT NULL",
                    r=db_id)
    assert held == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", rid)
