"""How long a push holds the change counter's row lock on PostgreSQL (issue 13, item 4). Not run by pytest.

    .venv/bin/python bench/counter_lock.py                 # 200 pushes of each size, one writer
    .venv/bin/python bench/counter_lock.py --writers 8     # also 8 concurrent writers for 20 s

Every push numbers its changes at the end of its transaction by bumping the one row of
``sync_counter`` (sync/engine/sequence.py); PostgreSQL keeps that row locked until the transaction
commits, so pushes pass that point one at a time. The time from the counter's UPDATE to the end of the
COMMIT is the lock hold; 1 / hold is the most pushes per second one database can take, however many
workers and cores serve it. Measured in-process on the engine (a fresh database at 127.0.0.1:5432,
dropped afterwards), for a cadre's usual batches (the three of bench/load.py's day of work: 7, 11 and 5
mutations) and for full batches of 500 creates. ``--writers`` runs that many pushers at once for
``--seconds`` and reports the pushes/s that one Python process drives (it, not the counter, is the
limit there).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.sync import DESA, KECAMATAN, PG_HOST, PG_PORT, PG_USER, _pg_admin, record_fields, uuid7  # noqa: E402
from server.auth import service as auth_service  # noqa: E402
from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.models.enums import Role  # noqa: E402
from sync.engine.push import push  # noqa: E402
from sync.engine.writer import Actor  # noqa: E402
from sync.protocol import PushRequest  # noqa: E402


def day(rng_seed: int, seq: list[int]) -> list[list[dict[str, Any]]]:
    """A cadre's day as three batches (pengkajian; a musyawarah with attendance; usulan and a correction)."""
    import random

    rng = random.Random(rng_seed)

    def m(op: str, table: str, rid: uuid.UUID, changes: dict[str, Any], base: int = 0) -> dict[str, Any]:
        seq[0] += 1
        return {"op": op, "mutation_id": str(uuid7()), "seq": seq[0], "table": table, "record_id": str(rid),
                "base_version": base, "changes": changes}

    pk = [uuid7() for _ in range(6)]
    first = [m("create", "pengkajian", p, {k: v for k, v in record_fields(rng, i).items() if k != "desa_code"})
             for i, p in enumerate(pk)]
    first.append(m("update", "pengkajian", pk[0], {"penyebab": "Sedimentasi"}, 1))
    mid = uuid7()
    second = [m("create", "musyawarah", mid, {"jenis": "musyawarah_dusun", "tanggal": "2026-03-02",
                                              "jam_mulai": "09:00", "tempat": "Balai dusun"})]
    second += [m("create", "kehadiran", uuid7(), {"musyawarah_id": str(mid), "nama": f"Warga {i}",
                                                  "jenis_kelamin": "LP"[i % 2]}) for i in range(10)]
    third = [m("create", "usulan", uuid7(), {"kegiatan": f"Normalisasi saluran {i}", "musyawarah_id": str(mid),
                                            "pengkajian_id": str(pk[i]), "volume": 250.0, "satuan": "m"})
             for i in range(4)]
    third.append(m("update", "pengkajian", pk[1], {"lokasi": "Banjar Tegal"}, 1))
    return [first, second, third]


class Holds:
    """Time from the counter's UPDATE returning to the end of COMMIT, per transaction."""

    def __init__(self, engine: Any) -> None:
        self.started: dict[int, float] = {}
        self.holds: list[float] = []

        # From the moment the UPDATE returns (the lock is this transaction's; waiting for it is not holding).
        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _seen(conn, cursor, statement, *_: Any) -> None:  # type: ignore[no-untyped-def]
            if statement.startswith("UPDATE sync_counter"):
                self.started[id(conn.connection.dbapi_connection)] = time.perf_counter()

    def done(self, dbapi_id: int) -> None:
        started = self.started.pop(dbapi_id, None)
        if started is not None:
            self.holds.append(time.perf_counter() - started)


async def one_push(sessions: Any, holds: Holds, actor: Actor, mutations: list[dict[str, Any]]) -> None:
    request = msgspec.convert({"client_id": str(actor.client_id), "protocol_version": 1, "app_version": "bench",
                               "mutations": mutations}, PushRequest, strict=False)
    async with sessions() as s:
        await push(s, actor, request, None)
        conn = await s.connection()
        dbapi_id = id((await conn.get_raw_connection()).dbapi_connection)
        await s.commit()
    holds.done(dbapi_id)


def ms(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20) if len(values) > 1 else values * 19
    return f"median {statistics.median(values) * 1000:.2f} ms, p95 {q[18] * 1000:.2f} ms (n={len(values)})"


async def main(args: argparse.Namespace) -> None:
    name = f"kader_counter_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url, pool_size=max(4, args.writers))
        sessions = make_sessionmaker(engine)
        from server.wilayah.loader import load_wilayah

        async with sessions() as s:
            await load_wilayah(s, KECAMATAN)
            users = [await auth_service.create_user(s, f"kader-{i}", "kata-sandi-bench", Role.kader, DESA)
                     for i in range(max(1, args.writers))]
            await s.commit()
        actors = [Actor(user_id=u.id, role=Role.kader, scope=DESA, client_id=uuid.uuid4()) for u in users]
        holds = Holds(engine)
        seq = [0]
        by_size: dict[str, list[float]] = {}
        for k in range(args.pushes):
            for label, batch in zip(("7 mutations", "11 mutations", "5 mutations"), day(k, seq), strict=True):
                await one_push(sessions, holds, actors[0], batch)
                by_size.setdefault(label, []).append(holds.holds[-1])
        for k in range(max(3, args.pushes // 20)):
            import random

            rng = random.Random(k)
            seq[0] += 500
            batch = [{"op": "create", "mutation_id": str(uuid7()), "seq": seq[0] + i, "table": "pengkajian",
                      "record_id": str(uuid7()), "changes": {k2: v for k2, v in record_fields(rng, i).items()
                                                             if k2 != "desa_code"}} for i in range(500)]
            await one_push(sessions, holds, actors[0], batch)
            by_size.setdefault("500 creates", []).append(holds.holds[-1])
        print("Counter lock held per push, one writer (UPDATE sync_counter .. COMMIT done):")
        for label, values in by_size.items():
            print(f"  {label:13} {ms(values)}  -> ceiling {1 / statistics.median(values):,.0f} pushes/s")
        if args.writers > 1:
            holds.holds.clear()
            stop = time.perf_counter() + args.seconds
            count = 0

            async def writer(actor: Actor, n: int) -> None:
                nonlocal count
                while time.perf_counter() < stop:
                    for batch in day(n * 100_000 + count, seq):
                        await one_push(sessions, holds, actor, batch)
                        count += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(writer(a, i) for i, a in enumerate(actors)))
            wall = time.perf_counter() - t0
            # The holds seen here also count the time this one busy process takes to notice its COMMIT
            # ended, so they overstate the lock; pushes/s is what this process could drive.
            print(f"{args.writers} writers at once for {wall:.0f} s: {count / wall:,.0f} pushes/s "
                  f"(bounded by this one Python process, not by the counter)")
        await engine.dispose()
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pushes", type=int, default=200, help="days of work pushed one after another (3 pushes each)")
    p.add_argument("--writers", type=int, default=1)
    p.add_argument("--seconds", type=float, default=20.0)
    asyncio.run(main(p.parse_args()))
