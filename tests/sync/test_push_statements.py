"""How many SQL statements a push costs, counted on the real engine (both databases).

A push used to run 8–10 statements per mutation (a savepoint, a locking SELECT, the desa check, one per
reference, the inserts, the release); under load every one is a round trip and ORM work, and it made
the server CPU-bound (bench/README.md). The engine now reads and locks a batch's rows, checks its
references and writes its rows, history and answers table by table, so the count depends on how many
tables a batch touches, not on how many mutations it holds. These tests hold it to that, and check
that the one case still needing per-mutation savepoints (a mutation the database itself refuses)
spares the rest of the batch.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec

from server.db.engine import make_engine, make_sessionmaker
from sync.engine.push import push
from sync.engine.writer import Actor
from sync.protocol import PushRequest
from sync.vocabulary import Role
from tests.conftest import Store
from tests.support.statements import counting
from tests.syncing import mutation

PER_BATCH = 20  # statements a batch may cost, whatever its size (it touches at most 3 tables here)


def masalah(i: int) -> dict[str, Any]:
    return {"jenis": "masalah", "uraian": f"Saluran tersumbat #{i}", "bidang_code": "2", "skor_dirasakan": 4,
            "skor_parah": 3, "penyebab": "Sedimentasi", "lokasi": f"Dusun {i}"}


class Cadre:
    def __init__(self, store: Store, desa: str) -> None:
        username, _ = store.user("kader", desa)
        self.user_id = store.scalar("SELECT id FROM users WHERE username = :u", u=username)
        self.client_id = uuid.uuid4()
        self.actor = Actor(user_id=self.user_id, role=Role.kader, scope=desa, client_id=self.client_id)
        self.url = store.url

    def push(self, mutations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
        """Push in one committed transaction, as the server does; returns the answers and the statements run."""
        request = msgspec.convert({"client_id": str(self.client_id), "protocol_version": 1, "app_version": "test",
                                   "mutations": mutations}, PushRequest, strict=False)

        async def go() -> tuple[list[dict[str, Any]], list[str]]:
            engine = make_engine(self.url)
            try:
                with counting(engine) as statements:
                    async with make_sessionmaker(engine)() as db, db.begin():
                        response = await push(db, self.actor, request, None)
                return msgspec.to_builtins(response.results), statements
            finally:
                await engine.dispose()

        return asyncio.run(go())


def day_of_work(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A batch of ``n`` pengkajian, then a musyawarah with ``n`` attendance lines and an edit."""
    pengkajian = [uuid.uuid4() for _ in range(n)]
    first = [mutation("create", "pengkajian", p, masalah(i)) for i, p in enumerate(pengkajian)]
    musyawarah = uuid.uuid4()
    second = [mutation("create", "musyawarah", musyawarah, {"jenis": "musyawarah_dusun", "tanggal": "2026-03-02"})]
    second += [mutation("create", "kehadiran", uuid.uuid4(), {"musyawarah_id": str(musyawarah), "nama": f"Warga {i}",
                                                             "jenis_kelamin": "LP"[i % 2]}) for i in range(n)]
    second.append(mutation("update", "pengkajian", pengkajian[0], {"penyebab": "Sampah"}, base_version=1))
    return first, second


def test_a_push_costs_the_same_few_statements_for_5_or_40_mutations(store: Store, desa: str) -> None:
    counts = []
    for n in (5, 40):
        cadre = Cadre(store, desa)
        for batch in day_of_work(n):
            results, statements = cadre.push(batch)
            assert {r["status"] for r in results} == {"applied"}, results
            assert len(statements) <= PER_BATCH, statements
            counts.append(len(statements))
    small, large = counts[:2], counts[2:]
    assert small == large, (small, large)


def test_the_stored_rows_history_and_answers_are_all_there(store: Store, desa: str) -> None:
    cadre = Cadre(store, desa)
    first, second = day_of_work(6)
    cadre.push(first)
    results, _ = cadre.push(second)
    assert results[-1]["version"] == 2
    ids = [m["record_id"] for m in first + second]
    assert store.scalar(f"SELECT count(*) FROM history WHERE client_id = '{cadre.client_id}'") == len(ids)  # noqa: S608
    seqs = store.rows(f"SELECT change_seq FROM history WHERE client_id = '{cadre.client_id}' ORDER BY id")  # noqa: S608
    assert all(s[0] > 0 for s in seqs) and len({s[0] for s in seqs}) == len(seqs)
    assert store.scalar("SELECT penyebab FROM pengkajian WHERE id = :i",
                        i=_id(store, first[0]["record_id"])) == "Sampah"
    assert store.scalar(f"SELECT count(*) FROM processed_mutations WHERE client_id = '{cadre.client_id}'") \
        == len(ids)  # noqa: S608
    # A retry of the same batch is answered from the stored answers and writes nothing.
    again, statements = cadre.push(second)
    assert again == results
    # (statements as their first three words: "INSERT INTO history", "UPDATE pengkajian SET")
    assert not [s for s in statements if s.startswith(("INSERT INTO history", "UPDATE pengkajian"))], statements
    assert any(s.startswith("SELECT") for s in statements), statements  # the recorder saw the retry


def test_a_mutation_the_database_refuses_is_rejected_alone(store: Store, desa: str) -> None:
    """An unknown bidang code passes the wire check but not the foreign key: the batch is re-run with a
    savepoint per mutation, and only that one is rejected."""
    cadre = Cadre(store, desa)
    good = [uuid.uuid4(), uuid.uuid4()]
    results, statements = cadre.push([
        mutation("create", "pengkajian", good[0], masalah(1)),
        mutation("create", "pengkajian", uuid.uuid4(), {**masalah(2), "bidang_code": "5.99"}),
        mutation("create", "pengkajian", good[1], masalah(3)),
    ])
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"], results
    assert results[1]["error_code"] == "integrity"
    assert any(s.startswith("SAVEPOINT") for s in statements)
    stored = store.rows(f"SELECT record_id, version, change_seq FROM history "  # noqa: S608
                        f"WHERE client_id = '{cadre.client_id}' ORDER BY change_seq")
    assert [str(r[0]) for r in stored] == [str(g) for g in good] and stored[0][2] > 0
    assert store.scalar(f"SELECT count(*) FROM processed_mutations WHERE client_id = '{cadre.client_id}'") == 3  # noqa: S608


def _id(store: Store, record_id: str) -> Any:
    return uuid.UUID(record_id) if "postgresql" in store.url else record_id
