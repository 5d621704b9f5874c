"""Loading Kemendagri regions from the offline register."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import KaderError
from server.wilayah.loader import load_wilayah
from tests.conftest import Store


def test_a_kecamatan_loads_with_its_ancestors_and_desa(store: Store) -> None:
    made = store.made_desa()  # by other tests, beside the register's
    rows = {code: (name, level, kind, parent) for code, name, level, kind, parent in
            store.rows("SELECT code, name, level, kind, parent_code FROM wilayah WHERE code LIKE '73%'")
            if code not in made}
    assert rows["73"][1:3] == (1, "provinsi")
    assert rows["73.12"] == ("Kabupaten Soppeng", 2, "kabupaten", "73")
    assert rows["73.12.07"] == ("Ganra", 3, "kecamatan", "73.12")
    assert rows["73.12.07.2002"] == ("Ganra", 4, "desa", "73.12.07")
    assert {c for c in rows if c.startswith("73.12.07.")} == {f"73.12.07.200{i}" for i in range(1, 5)}


def test_loading_again_is_idempotent(store: Store) -> None:
    before = store.scalar("SELECT count(*) FROM wilayah")
    written = store.run(lambda s: load_wilayah(s, "51.08.01"))
    assert written == 3 + 14  # Bali, Buleleng, Gerokgak and its 14 desa
    assert store.scalar("SELECT count(*) FROM wilayah") == before


def test_a_whole_kabupaten_loads(store: Store) -> None:
    written = store.run(lambda s: load_wilayah(s, "73.12"))
    stored = {code for (code,) in store.rows("SELECT code FROM wilayah WHERE code = '73' OR code LIKE '73.12%'")}
    assert written == len(stored - store.made_desa())
    assert store.scalar("SELECT count(*) FROM wilayah WHERE level = 3 AND parent_code = '73.12'") == 8


def test_an_unknown_code_is_refused_and_nothing_is_written(store: Store) -> None:
    before = store.scalar("SELECT count(*) FROM wilayah")

    async def load(s: AsyncSession) -> int:
        return await load_wilayah(s, "99.99")

    with pytest.raises(KaderError) as err:
        store.run(load)
    assert err.value.code == "wilayah_unknown"
    assert store.scalar("SELECT count(*) FROM wilayah") == before
