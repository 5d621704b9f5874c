"""Sync benchmark (issue 13, item 1): how fast one phone's sync is, end to end over HTTP. Not run by pytest.

    .venv/bin/python bench/sync.py                              # both engines, N=10,000, scale 10k and 100k
    .venv/bin/python bench/sync.py --engine sqlite --scale 10000,100000,1000000
    .venv/bin/python bench/sync.py --profile /tmp/prof          # py-spy on the server during each phase

Per engine: a template database (migrated, Kecamatan Gerokgak loaded, three cadre accounts of desa
51.08.01.2001: A pushes, B pulls, W edits), then per repetition a fresh copy of it (SQLite: the file
copied; PostgreSQL: CREATE DATABASE … TEMPLATE, in a database of its own at 127.0.0.1:5432, dropped
afterwards) and the real server (uvicorn, one worker, loopback) on the copy. Measured:

- **push**: A sends N pengkajian creates (about 580 B of fields each, the shape of the shared peer
  bench's records) in batches of ``--batch``, gzipped like the PWA; records/s over the whole upload.
- **raw insert**: the same N rows into the same table with ONE SQLAlchemy Core executemany in one
  transaction (begin + insert + commit timed; rows built before the clock), on a fresh copy, through
  the project's engine factory: no history, no stored answers, no validation. ``push/raw`` is the ratio.
- **full pull**: B, without a cursor, pulls everything (``--pull-limit`` a page, gzip accepted, the JSON
  decoded) to the end; records/s. Repeated ``--reps`` times on the last copy.
- **incremental pull**: W changes 100 records (two fields each, one push on their current versions,
  untimed); B pulls from its cursor and must get exactly those 100. Median of ``--samples-incr``.
- **no-op pull**: B pulls again from its cursor with nothing changed. Median of ``--samples-noop``.
- **scale**: then rows are added to the same desa straight into the database, as the engine writes them
  (row, history entry, numbers from the change counter; Core executemany, untimed) until the desa holds
  each size of ``--scale``; incremental and no-op pulls are measured again at each. B's cursor is moved
  to the top (a phone that holds everything already). The ratio largest/smallest is printed.
- **bytes**: HTTP bodies as they travel (gzip) and decoded, per record: push up, pull down.

Rates are taken in this client around the HTTP calls (client and server share the machine's cores).
``--profile DIR`` samples the server with py-spy (``pip install py-spy``) during push, full pull,
incremental and no-op pulls, and prints the top functions of each (inclusive and own time); the raw
stacks stay in DIR. Server and PostgreSQL CPU seconds per phase are printed either way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import gzip
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import msgspec  # noqa: E402
from sqlalchemy import func, insert, select, text, update  # noqa: E402

from server.auth import passwords  # noqa: E402
from server.auth import service as auth_service  # noqa: E402
from server.db.bulk import insert_rows  # noqa: E402
from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.models import History, Pengkajian, SyncCounter, SyncMeta  # noqa: E402
from server.models.enums import Role  # noqa: E402
from sync.engine.pull import make_cursor, purged_through  # noqa: E402
from tests.conftest import LiveServer, children, start_server, stop_server  # noqa: E402  (plain helpers)

KECAMATAN, DESA = "51.08.01", "51.08.01.2001"
PG_HOST = os.environ.get("KADER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("KADER_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("KADER_TEST_PG_USER", "postgres")
PASSWORD = "bench-kata-sandi-1"
ACCOUNTS = ("bench-a", "bench-b", "bench-w")
CLK_TCK = os.sysconf("SC_CLK_TCK")
INCR = 100

# --- the records ---------------------------------------------------------------------------------------

WORDS = str.split("warga dusun jalan rusak saluran air bersih sumur posyandu balita ibu hamil sekolah dasar guru "
         "jembatan banjir musim hujan sampah plastik pantai nelayan perahu pasar desa harga pupuk petani "
         "sawah irigasi kebun kelapa lansia puskesmas bidan listrik gang sempit drainase tersumbat pemuda "
         "rumah tidak layak huni stunting gizi tandon sanitasi jamban mangrove abrasi talud gotong royong "
         "perlu segera diperbaiki belum tersedia sangat dibutuhkan sering terjadi kurang memadai")
BIDANG = ["2.3", "2.2", "2.1", "4.5", "4.4", "2.5"]


def record_fields(rng: random.Random, i: int) -> dict[str, Any]:
    """One pengkajian as a cadre's phone sends it (about 580 bytes of JSON)."""
    words: list[str] = []
    target = rng.randint(150, 400)
    while sum(len(w) + 1 for w in words) < target:
        words.append(rng.choice(WORDS))
    return {"desa_code": DESA, "jenis": ["masalah", "potensi", "kebutuhan"][i % 3],
            "uraian": " ".join(words).capitalize()[:target] + ".", "bidang_code": rng.choice(BIDANG),
            "lokasi": "Dusun Banjar Dinas Celukan Bawang", "latitude": round(-8.1 - rng.random() / 10, 6),
            "longitude": round(114.8 + rng.random() / 10, 6), "kelompok_sumber": f"kader-{i % 40:03d}",
            "skor_dirasakan": rng.randint(1, 5)}


def uuid7() -> uuid.UUID:
    """Time-ordered ids, as the PWA makes them."""
    ms = int(time.time() * 1000)
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = (b[6] & 0x0F) | 0x70
    b[8] = (b[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(b))


def workload(n: int, seed: int) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    rng = random.Random(seed)
    return [(uuid.UUID(int=rng.getrandbits(128), version=4), record_fields(rng, i)) for i in range(n)]


# --- databases -----------------------------------------------------------------------------------------

async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg(sql: str) -> None:
    asyncio.run(_pg_admin(sql))


async def _run(url: str, work: Any) -> Any:
    engine = make_engine(url, pool_size=2)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def run(url: str, work: Any) -> Any:
    return asyncio.run(_run(url, work))


@dataclass
class Databases:
    """A migrated template and fresh copies of it, for one engine."""

    engine: str
    tmp: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    copies: list[str] = field(default_factory=list)

    @property
    def template(self) -> str:
        return self.url("tpl")

    def url(self, name: str) -> str:
        if self.engine == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / f'{name}.sqlite3'}"
        return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/kader_syncbench_{self.tag}_{name}"

    def dbname(self, name: str) -> str | None:
        return f"kader_syncbench_{self.tag}_{name}" if self.engine == "postgresql" else None

    def make_template(self) -> None:
        if self.engine == "postgresql":
            pg(f'CREATE DATABASE "{self.dbname("tpl")}"')
            self.copies.append("tpl")
        upgrade(self.template)
        from server.wilayah.loader import load_wilayah

        run(self.template, lambda s: load_wilayah(s, KECAMATAN))
        # One argon2 hash for the three accounts (log-ins still verify it in full).
        hashed = passwords.hash_password(PASSWORD)
        real = auth_service.hash_password
        auth_service.hash_password = lambda p: hashed if p == PASSWORD else real(p)

        async def accounts(s: Any) -> None:
            for name in ACCOUNTS:
                await auth_service.create_user(s, name, PASSWORD, Role.kader, DESA, nama=name)
        try:
            run(self.template, accounts)
        finally:
            auth_service.hash_password = real

    def copy(self, name: str) -> str:
        if self.engine == "sqlite":
            src = self.tmp / "tpl.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                if (src.parent / (src.name + suffix)).exists():
                    shutil.copy2(src.parent / (src.name + suffix), self.tmp / f"{name}.sqlite3{suffix}")
        else:
            pg(f'CREATE DATABASE "{self.dbname(name)}" TEMPLATE "{self.dbname("tpl")}"')
        self.copies.append(name)
        return self.url(name)

    def drop(self, name: str) -> None:
        if self.engine == "sqlite":
            for f in self.tmp.glob(f"{name}.sqlite3*"):
                f.unlink()
        else:
            pg(f'DROP DATABASE IF EXISTS "{self.dbname(name)}" WITH (FORCE)')
        if name in self.copies:
            self.copies.remove(name)

    def drop_all(self) -> None:
        for name in list(reversed(self.copies)):
            with contextlib.suppress(Exception):
                self.drop(name)


def pengkajian_row(record_id: uuid.UUID, fields: dict[str, Any], user_id: int, seq: int,
                   now: dt.datetime) -> dict[str, Any]:
    """A pengkajian row as the engine stores a create: every column, the ones not given at their default."""
    values = {k: v for k, v in fields.items() if k != "desa_code"}
    return {**DEFAULTS, "id": record_id, "desa_code": DESA, "version": 1, "change_seq": seq, "created_at": now,
            "updated_at": now, "created_by": user_id, "updated_by": user_id,
            "skor_total": values["skor_dirasakan"], **values}


DEFAULTS = {c.key: (c.default.arg if c.default is not None and c.default.is_scalar else None)
            for c in Pengkajian.__table__.columns}


async def user_id_of(s: Any, username: str) -> int:
    from server.models import User

    return int(await s.scalar(select(User.id).where(User.username == username)))


def raw_insert(dbs: Databases, records: list[tuple[uuid.UUID, dict[str, Any]]], name: str) -> float:
    """Seconds for one Core executemany of the rows into a fresh copy (begin + insert + commit)."""
    url = dbs.copy(name)

    async def go() -> float:
        engine = make_engine(url, pool_size=2)
        try:
            async with make_sessionmaker(engine)() as s:
                uid = await user_id_of(s, ACCOUNTS[0])
            now = dt.datetime.now(dt.UTC)
            rows = [pengkajian_row(rid, f, uid, i + 1, now) for i, (rid, f) in enumerate(records)]
            stmt = insert(Pengkajian.__table__)
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                await conn.commit()
                t0 = time.perf_counter()
                await conn.execute(stmt, rows)
                await conn.commit()
                return time.perf_counter() - t0
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    finally:
        dbs.drop(name)


async def seed(url: str, target: int, seed_no: int, chunk: int = 5000) -> None:
    """Add pengkajian rows to the desa until it holds ``target``: row + history entry each, numbered from
    the change counter in the same transaction, as the engine writes a create (no HTTP, no validation;
    the engine's own bulk insert)."""
    engine = make_engine(url, pool_size=2)
    rng = random.Random(seed_no)
    try:
        async with make_sessionmaker(engine)() as s:
            have = int(await s.scalar(select(func.count()).select_from(Pengkajian.__table__)
                                      .where(Pengkajian.desa_code == DESA)))
            uid = await user_id_of(s, ACCOUNTS[0])
        client = uuid.uuid4()
        while have < target:
            k = min(chunk, target - have)
            async with make_sessionmaker(engine)() as s, s.begin():
                top = int(await s.scalar(update(SyncCounter).where(SyncCounter.id == 1)
                                         .values(value=SyncCounter.value + k).returning(SyncCounter.value)))
                now = dt.datetime.now(dt.UTC)
                rows, entries = [], []
                for j in range(k):
                    rid, fields = uuid7(), record_fields(rng, have + j)
                    seq = top - k + 1 + j
                    rows.append(pengkajian_row(rid, fields, uid, seq, now))
                    changes = {n: [None, v] for n, v in fields.items() if n != "desa_code"}
                    changes["skor_total"] = [None, fields["skor_dirasakan"]]
                    entries.append({"table_name": "pengkajian", "record_id": rid, "desa_code": DESA, "version": 1,
                                    "change_seq": seq, "op": "create", "user_id": uid, "client_id": client,
                                    "mutation_id": uuid.uuid4(), "via": "sync", "changes": changes, "at": now})
                await insert_rows(s, Pengkajian.__table__, rows)
                await insert_rows(s, History.__table__, entries)
            have += k
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                # What autovacuum does on its own once this many rows changed: statistics and the visibility map.
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


async def top_cursor(url: str) -> str:
    """The cursor of a phone that holds everything up to now."""
    engine = make_engine(url, pool_size=2)
    try:
        async with make_sessionmaker(engine)() as s:
            top = int(await s.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)))
            db_id = uuid.UUID(await s.scalar(select(SyncMeta.value).where(SyncMeta.key == "database_id")))
            purged = await purged_through(s)
        return make_cursor(top, DESA, db_id, purged)
    finally:
        await engine.dispose()


# --- the phone -----------------------------------------------------------------------------------------

@dataclass
class Wire:
    up_wire: int = 0
    up_body: int = 0
    down_wire: int = 0
    down_body: int = 0
    requests: int = 0


class Phone:
    """A PWA-like client: pushes gzipped batches, pulls pages following ``next_cursor``."""

    def __init__(self, server: LiveServer, username: str) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=600, headers={"Accept-Encoding": "gzip"})
        r = self.http.post("/api/auth/login", json={"username": username, "password": PASSWORD,
                                                    "device_name": f"bench {username}"})
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['token']}"
        self.client_id = uuid7()
        self.seq = 0
        self.cursor: str | None = None
        self.versions: dict[uuid.UUID, int] = {}
        self.wire = Wire()

    def close(self) -> None:
        self.http.close()

    def push(self, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = msgspec.json.encode({"client_id": self.client_id, "protocol_version": 1, "app_version": "bench",
                                    "mutations": mutations})
        headers = {"Content-Type": "application/json"}
        data = body
        if len(body) > 4096:  # as the PWA: bodies above 4 KB travel gzipped
            data = gzip.compress(body, 6)
            headers["Content-Encoding"] = "gzip"
        r = self.http.post("/api/sync/push", content=data, headers=headers)
        r.raise_for_status()
        self._count(len(data), len(body), r)
        results = msgspec.json.decode(r.content)["results"]
        for res in results:
            if res.get("version") is not None:
                self.versions[uuid.UUID(res["record_id"])] = res["version"]
        return results

    def mutation(self, op: str, record_id: uuid.UUID, changes: dict[str, Any], base: int = 0) -> dict[str, Any]:
        self.seq += 1
        return {"op": op, "mutation_id": uuid7(), "seq": self.seq, "table": "pengkajian", "record_id": record_id,
                "base_version": base, "changes": changes}

    def pull_all(self, limit: int) -> Counter[str]:
        """Pull to the end; returns changes per table."""
        got: Counter[str] = Counter()
        while True:
            params: dict[str, Any] = {"limit": limit, "protocol_version": 1}
            if self.cursor:
                params["cursor"] = self.cursor
            r = self.http.get("/api/sync/pull", params=params)
            r.raise_for_status()
            page = msgspec.json.decode(r.content)
            self._count(0, 0, r)
            for ch in page["changes"]:
                got[ch["table"]] += 1
                if ch["table"] == "pengkajian":
                    self.versions[uuid.UUID(ch["record_id"])] = ch["version"]
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return got

    def _count(self, up_wire: int, up_body: int, r: httpx.Response) -> None:
        self.wire.requests += 1
        self.wire.up_wire += up_wire
        self.wire.up_body += up_body
        self.wire.down_wire += r.num_bytes_downloaded
        self.wire.down_body += len(r.content)


# --- CPU and profiles ----------------------------------------------------------------------------------

def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _pg_backends(dbname: str) -> list[int]:
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes()
                if cmd.startswith(b"postgres: ") and f" {dbname} ".encode() in cmd:
                    pids.append(int(entry.name))
    return pids


class Phase:
    """CPU seconds of the server and of this database's PostgreSQL backends during one phase, and
    (with ``--profile``) a py-spy recording of the server."""

    def __init__(self, name: str, server: LiveServer, dbname: str | None, profile: Path | None) -> None:
        self.name, self.server, self.dbname, self.profile = name, server, dbname, profile
        self.cpu: dict[str, float] = {}
        self.spy: subprocess.Popen[bytes] | None = None
        self.raw: Path | None = None

    def _pids(self) -> dict[int, str]:
        pids = {p: "server" for p in [self.server.process.pid, *children(self.server.process)]}
        if self.dbname:
            pids |= {p: "postgres" for p in _pg_backends(self.dbname)}
        return pids

    def __enter__(self) -> Phase:
        if self.profile:
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            self.raw = self.profile / f"{self.name}.txt"
            self.spy = subprocess.Popen([spy, "record", "--pid", str(self.server.process.pid), "--rate", "250",
                                         "--format", "raw", "--output", str(self.raw), "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # py-spy attaches
        self.first = {p: _cpu_seconds(p) for p in self._pids()}
        self.client = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        totals: dict[str, float] = defaultdict(float)
        for p, who in self._pids().items():
            totals[who] += _cpu_seconds(p) - self.first.get(p, 0.0)
        totals["client"] = time.process_time() - self.client
        self.cpu = dict(totals)
        if self.spy:
            self.spy.send_signal(signal.SIGINT)
            try:
                self.spy.wait(30)
            except subprocess.TimeoutExpired:
                self.spy.kill()


def summarise_profile(raw: Path, top: int = 22) -> str:
    """Top functions of a py-spy raw (collapsed) profile: inclusive and own share of the samples."""
    if not raw.exists():
        return f"  (no profile: {raw} missing)"
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";")]
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    if not total:
        return "  (no samples)"
    lines = [f"  {total} samples; inclusive% own% function"]
    for f, n in inclusive.most_common(top):
        lines.append(f"  {100 * n / total:5.1f} {100 * own[f] / total:5.1f}  {f}")
    lines.append("  top own time:")
    for f, n in own.most_common(12):
        lines.append(f"  {'':5} {100 * n / total:5.1f}  {f}")
    return "\n".join(lines)


def _short(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``; site-packages paths shortened."""
    name, _, where = frame.partition(" (")
    path = where.split(":")[0]
    if "site-packages/" in path:
        path = path.split("site-packages/")[1]
    elif "/wt/" in path or "/work/" in path:
        path = "/".join(path.split("/")[-2:])
    else:
        path = path.rsplit("/", 1)[-1]
    return f"{name} ({path})"


# --- one engine ----------------------------------------------------------------------------------------

@dataclass
class Result:
    engine: str
    n: int
    push_s: list[float] = field(default_factory=list)
    raw_s: list[float] = field(default_factory=list)
    pull_s: list[float] = field(default_factory=list)
    incr_ms: dict[int, list[float]] = field(default_factory=dict)
    noop_ms: dict[int, list[float]] = field(default_factory=dict)
    push_wire: Wire | None = None
    pull_wire: Wire | None = None
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)

    def rate(self, seconds: list[float]) -> float:
        return self.n / statistics.median(seconds) if seconds else float("nan")


def bench_engine(engine: str, args: argparse.Namespace) -> Result:
    res = Result(engine, args.n)
    records = workload(args.n, args.seed)
    profile = Path(args.profile) / engine if args.profile else None
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kader-syncbench-") as tmp:
        dbs = Databases(engine, Path(tmp))
        try:
            t0 = time.perf_counter()
            dbs.make_template()
            print(f"[{engine}] template ready in {time.perf_counter() - t0:.1f} s", flush=True)
            for rep in range(args.reps):
                res.raw_s.append(raw_insert(dbs, records, f"raw{rep}"))
                print(f"[{engine}] raw insert {rep + 1}: {args.n / res.raw_s[-1]:,.0f} rec/s", flush=True)
            for rep in range(args.reps):
                last = rep == args.reps - 1
                name = f"run{rep}"
                url = dbs.copy(name)
                data = Path(tmp) / f"data-{name}"
                data.mkdir()
                server = start_server(url, data)
                try:
                    push_phone = Phone(server, ACCOUNTS[0])
                    mutations = [push_phone.mutation("create", rid, f) for rid, f in records]
                    with Phase("push", server, dbs.dbname(name), profile if last else None) as ph:
                        t = time.perf_counter()
                        answers: Counter[str] = Counter()
                        for i in range(0, len(mutations), args.batch):
                            answers.update(r["status"] for r in push_phone.push(mutations[i:i + args.batch]))
                        res.push_s.append(time.perf_counter() - t)
                    assert answers == {"applied": args.n}, answers
                    print(f"[{engine}] push {rep + 1}: {args.n / res.push_s[-1]:,.0f} rec/s "
                          f"(cpu {_fmt_cpu(ph.cpu)})", flush=True)
                    if not last:
                        _pull_once(res, server, args, engine, rep)
                        continue
                    res.push_wire = push_phone.wire
                    res.cpu["push"] = ph.cpu
                    if profile and ph.raw:
                        res.profiles["push"] = summarise_profile(ph.raw)
                    measure_pulls(res, server, url, dbs.dbname(name), push_phone, args, profile, engine)
                    push_phone.close()
                finally:
                    stop_server(server)
                    dbs.drop(name)
        finally:
            dbs.drop_all()
    return res


def _pull_once(res: Result, server: LiveServer, args: argparse.Namespace, engine: str, rep: int) -> Phone:
    phone = Phone(server, ACCOUNTS[1])
    t = time.perf_counter()
    got = phone.pull_all(args.pull_limit)
    res.pull_s.append(time.perf_counter() - t)
    assert got["pengkajian"] == args.n, got
    print(f"[{engine}] full pull {rep + 1}: {args.n / res.pull_s[-1]:,.0f} rec/s", flush=True)
    return phone


def measure_pulls(res: Result, server: LiveServer, url: str, dbname: str | None, writer_phone: Phone,
                  args: argparse.Namespace, profile: Path | None, engine: str) -> None:
    with Phase("pull", server, dbname, profile) as ph:
        reader = _pull_once(res, server, args, engine, args.reps - 1)
    res.pull_wire = dataclasses.replace(reader.wire)  # the full pull's alone (the reader pulls on below)
    res.cpu["pull"] = ph.cpu
    if profile and ph.raw:
        res.profiles["pull"] = summarise_profile(ph.raw)
    editor = Phone(server, ACCOUNTS[2])
    rng = random.Random(args.seed + 1)
    known = dict(writer_phone.versions)
    size = args.n
    for scale in [s for s in args.scale if s >= args.n] or [args.n]:
        if scale > size:
            t = time.perf_counter()
            asyncio.run(seed(url, scale, args.seed + scale))
            size = scale
            reader.cursor = asyncio.run(top_cursor(url))
            print(f"[{engine}] seeded the desa to {scale:,} records in {time.perf_counter() - t:.0f} s", flush=True)
        # incremental: W edits 100 records on their current versions (untimed), B pulls them
        incr: list[float] = []
        with Phase(f"incr-{scale}", server, dbname, profile if scale == size == args.scale[0] else None) as ph_i:
            for _ in range(args.samples_incr):
                chosen = rng.sample(sorted(known), INCR)
                batch = [editor.mutation("update", rid, {"uraian": f"Diperbarui {uuid.uuid4().hex[:8]} oleh kader",
                                                          "kelompok_sumber": "pemuda"}, base=known[rid])
                         for rid in chosen]
                statuses = Counter(r["status"] for r in editor.push(batch))
                assert statuses == {"applied": INCR}, statuses
                known.update({rid: editor.versions[rid] for rid in chosen})
                t = time.perf_counter()
                got = reader.pull_all(args.pull_limit)
                incr.append((time.perf_counter() - t) * 1000)
                assert got == {"pengkajian": INCR}, got
        res.incr_ms[scale] = incr
        noop: list[float] = []
        with Phase(f"noop-{scale}", server, dbname, profile if scale == args.scale[0] else None) as ph_n:
            for _ in range(args.samples_noop):
                t = time.perf_counter()
                got = reader.pull_all(args.pull_limit)
                noop.append((time.perf_counter() - t) * 1000)
                assert not got, got
        res.noop_ms[scale] = noop
        res.cpu[f"incr-{scale}"], res.cpu[f"noop-{scale}"] = ph_i.cpu, ph_n.cpu
        if profile and ph_i.raw:
            res.profiles["incremental"] = summarise_profile(ph_i.raw)
        if profile and ph_n.raw:
            res.profiles["no-op"] = summarise_profile(ph_n.raw)
        print(f"[{engine}] {scale:,} in the desa: incremental {statistics.median(incr):.1f} ms, "
              f"no-op {statistics.median(noop):.1f} ms", flush=True)
    editor.close()
    reader.close()


def _fmt_cpu(cpu: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in sorted(cpu.items())) or "-"


# --- report --------------------------------------------------------------------------------------------

def report(results: list[Result], args: argparse.Namespace) -> None:
    scales = [s for s in args.scale if s >= args.n] or [args.n]
    print()
    print(f"N={args.n:,}, batch {args.batch}, pull page {args.pull_limit}; medians "
          f"(push/raw/full pull of {args.reps}, incremental of {args.samples_incr}, no-op of {args.samples_noop}); "
          f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
    head = ["engine", "push rec/s", "raw rec/s", "push/raw", "pull rec/s"]
    head += [f"incr100 ms @{_k(s)}" for s in scales] + [f"no-op ms @{_k(s)}" for s in scales]
    head += ["incr ×", "no-op ×", "push B/rec wire (json)", "pull B/rec wire (json)"]
    rows = []
    for r in results:
        push, raw = r.rate(r.push_s), r.rate(r.raw_s)
        incr = [statistics.median(r.incr_ms[s]) for s in scales if s in r.incr_ms]
        noop = [statistics.median(r.noop_ms[s]) for s in scales if s in r.noop_ms]
        pw, lw = r.push_wire or Wire(), r.pull_wire or Wire()
        rows.append([r.engine, f"{push:,.0f}", f"{raw:,.0f}", f"{push / raw:.2f}", f"{r.rate(r.pull_s):,.0f}",
                     *[f"{x:.1f}" for x in incr], *[f"{x:.1f}" for x in noop],
                     f"{incr[-1] / incr[0]:.2f}" if incr else "-", f"{noop[-1] / noop[0]:.2f}" if noop else "-",
                     f"{(pw.up_wire + pw.down_wire) / r.n:.0f} ({(pw.up_body + pw.down_body) / r.n:.0f})",
                     f"{lw.down_wire / r.n:.0f} ({lw.down_body / r.n:.0f})"])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                            strict=True))) + " |")
    print()
    for r in results:
        print(f"[{r.engine}] CPU seconds per phase: " + "; ".join(f"{k}: {_fmt_cpu(v)}" for k, v in r.cpu.items()))
        for phase, text_ in r.profiles.items():
            print(f"\n[{r.engine}] py-spy, server during {phase}:\n{text_}")
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "engine": r.engine, "n": r.n, "push_s": r.push_s, "raw_s": r.raw_s, "pull_s": r.pull_s,
            "incr_ms": r.incr_ms, "noop_ms": r.noop_ms, "push_wire": vars(r.push_wire or Wire()),
            "pull_wire": vars(r.pull_wire or Wire()), "cpu": r.cpu} for r in results], indent=1))


def _k(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--n", type=int, default=10_000, help="records pushed and pulled (default 10,000)")
    p.add_argument("--batch", type=int, default=500, help="mutations per push (default 500, the server's maximum)")
    p.add_argument("--pull-limit", type=int, default=1000, help="changes per pull page (default 1000, the maximum)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of push, raw insert and full pull")
    p.add_argument("--samples-incr", type=int, default=5)
    p.add_argument("--samples-noop", type=int, default=20)
    p.add_argument("--scale", default="10000,100000",
                   help="records in the desa at which incremental and no-op pulls are measured "
                        "(default 10000,100000; add 1000000 for the issue's 1M)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--profile", metavar="DIR", help="record the server with py-spy during each phase")
    p.add_argument("--json", metavar="FILE", help="also write the raw figures here")
    args = p.parse_args()
    args.scale = sorted(int(s) for s in args.scale.split(","))
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    results = [bench_engine(e, args) for e in engines]
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
