"""The ``kader`` command as the operator runs it: a real process on a fresh SQLite file or PostgreSQL."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    DESA_GANRA,
    KADER,
    TEST_ENV,
    Store,
    free_port,
    postgres_database,
    start_server,
    stop_server,
)

# Each test runs the `kader` command (and servers) as processes: the whole suite runs them, not the fast lane.
pytestmark = pytest.mark.slow

LOGIN_LINE = re.compile(r"^\s+(\S+)\s+(\S+)\s+(kader|admin)\s+([\d.]+)\s*$", re.MULTILINE)
SYNCED = ["dusun", "kader", "pengkajian", "musyawarah", "kehadiran", "usulan"]


@dataclass
class Install:
    """One installation: a database URL and a data directory, as the operator's environment names them."""

    url: str | None  # None: the default SQLite file inside the data directory
    data_dir: Path

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KADER_")} | TEST_ENV
        env["KADER_DATA_DIR"] = str(self.data_dir)
        if self.url:
            env["KADER_DATABASE_URL"] = self.url
        return env

    @property
    def store(self) -> Store:
        return Store(self.url or f"sqlite+aiosqlite:///{self.data_dir / 'kader.sqlite3'}")

    def kader(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([*KADER, *args], check=False, env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=60)

    def ok(self, *args: str, stdin: str = "") -> str:
        done = self.kader(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Install]:
    """A fresh installation on each engine; the database is empty, not even migrated."""
    if request.param == "sqlite":
        yield Install(f"sqlite+aiosqlite:///{tmp_path / 'kader.sqlite3'}", tmp_path / "data")
        return
    with postgres_database() as url:
        yield Install(url, tmp_path / "data")


@pytest.fixture
def sqlite_install(tmp_path: Path) -> Install:
    return Install(None, tmp_path / "data")


# --- wilayah ---------------------------------------------------------------------------------------------

def test_wilayah_load_is_idempotent_and_brings_the_ancestors(install: Install) -> None:
    first = install.ok("wilayah", "load", "73.12")
    count = install.store.scalar("SELECT count(*) FROM wilayah")
    second = install.ok("wilayah", "load", "73.12")
    assert install.store.scalar("SELECT count(*) FROM wilayah") == count
    assert _written(first) == _written(second) == count > 50  # Soppeng: 8 kecamatan, 70 desa/kelurahan
    rows = install.store.rows("SELECT code, name, kind, parent_code FROM wilayah WHERE code IN "
                              "('73', '73.12', '73.12.07', '73.12.07.2002') ORDER BY code")
    assert [tuple(r) for r in rows] == [
        ("73", "Sulawesi Selatan", "provinsi", None),
        ("73.12", "Kabupaten Soppeng", "kabupaten", "73"),
        ("73.12.07", "Ganra", "kecamatan", "73.12"),
        ("73.12.07.2002", "Ganra", "desa", "73.12.07"),
    ]


def test_wilayah_load_of_an_unknown_code_fails_plainly(sqlite_install: Install) -> None:
    done = sqlite_install.kader("wilayah", "load", "99.99")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "99.99" in done.stderr and "Traceback" not in done.stderr
    assert sqlite_install.store.scalar("SELECT count(*) FROM wilayah") == 0


def test_sync_purge_reports_what_it_removed_and_refuses_a_zero_window(sqlite_install: Install) -> None:
    assert "pengkajian 0" in sqlite_install.ok("sync", "purge", "--days", "30")
    refused = sqlite_install.kader("sync", "purge", "--days", "0")
    assert refused.returncode == 2 and "--days" in refused.stderr


def _written(output: str) -> int:
    match = re.search(r"(\d+) wilayah ditulis", output)
    assert match, output
    return int(match.group(1))


# --- accounts --------------------------------------------------------------------------------------------

def test_user_commands_work_against_the_running_server(install: Install) -> None:
    install.ok("wilayah", "load", "73.12.07")
    with ThreadPoolExecutor(1) as pool:  # the server boots while the account is made
        booting = pool.submit(start_server, install.store.url, install.data_dir)
        created = install.kader("user", "create", "nurhaeda.ganra", "--role", "kader", "--wilayah",
                                DESA_GANRA, "--nama", "Nurhaeda", stdin="sandi-pertama-1\n")
        live = booting.result()
    try:
        assert created.returncode == 0, created.stderr
        token = live.login("nurhaeda.ganra", "sandi-pertama-1", device="HP Oppo A16")
        with live.client(token) as c:
            me = c.get("/api/auth/me").json()
        assert (me["nama"], me["role"], me["wilayah_code"]) == ("Nurhaeda", "kader", DESA_GANRA)

        assert "1 perangkat dicabut" in install.ok("user", "revoke-devices", "nurhaeda.ganra")
        with live.client(token) as c:
            assert c.get("/api/auth/me").status_code == 401

        install.ok("user", "reset-password", "nurhaeda.ganra", stdin="sandi-kedua-22\n")
        with live.client() as c:
            old = c.post("/api/auth/login",
                         json={"username": "nurhaeda.ganra", "password": "sandi-pertama-1"})
        assert old.status_code == 401
        assert live.login("nurhaeda.ganra", "sandi-kedua-22")
    finally:
        stop_server(live)


def test_user_create_refuses_bad_input_with_exit_code_2(sqlite_install: Install) -> None:
    sqlite_install.ok("wilayah", "load", "73.12.07")
    make = ("user", "create", "admin.soppeng", "--role", "admin", "--wilayah")
    wrong_level = sqlite_install.kader(*make, DESA_GANRA, stdin="sandi-admin-1\n")  # must be kec./kab.
    no_password = sqlite_install.kader(*make, "73.12.07", stdin="")
    unknown = sqlite_install.kader("user", "reset-password", "tidak.ada", stdin="sandi-baru-123\n")
    for done in (wrong_level, no_password, unknown):
        assert done.returncode == 2 and done.stderr.startswith("error: "), done.stderr
    assert sqlite_install.store.scalar("SELECT count(*) FROM users") == 0


# --- demo ------------------------------------------------------------------------------------------------

@contextmanager
def serving(inst: Install, *args: str) -> Iterator[tuple[str, Path]]:
    """``kader serve`` as a subprocess on a free port; yields its URL and output file once it is healthy."""
    port = free_port()
    inst.data_dir.mkdir(parents=True, exist_ok=True)
    log = inst.data_dir.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*KADER, "serve", "--port", str(port), *args], env=inst.env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kader serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"kader serve did not become healthy:\n{log.read_text()}")


def _logins(output: str) -> dict[str, tuple[str, str, str]]:
    return {u: (p, role, w) for u, p, role, w in LOGIN_LINE.findall(output)}


def test_serve_on_an_empty_data_dir_seeds_the_demo_and_serves_everything(sqlite_install: Install,
                                                                        tmp_path: Path) -> None:
    with serving(sqlite_install) as (url, log):
        printed = _logins(log.read_text())
        with httpx.Client(base_url=url, timeout=10) as c:
            assert c.get("/").status_code == 200
            assert c.get("/admin/").status_code == 200
            assert c.get("/api/health").json()["status"] == "ok"
            assert c.get("/schema").status_code == 200
            password = printed["kader.ganra"][0]
            r = c.post("/api/auth/login", json={"username": "kader.ganra", "password": password,
                                                "device_name": "HP demo"})
            assert r.status_code == 200, r.text
            assert r.json()["token"] and r.json()["user"]["wilayah_code"] == DESA_GANRA
            pulled = c.get("/api/sync/pull", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()
            kegiatan = {ch["row"]["kegiatan"] for ch in pulled["changes"] if ch["table"] == "usulan"}
            assert "Pembangunan drainase jalan dusun" in kegiatan  # the demo travels to phones like any record
    assert set(printed) == {"kader.gerokgak", "kader.ganra", "admin.gerokgak", "admin.ganra"}
    assert printed["admin.ganra"][1:] == ("admin", "73.12.07")
    logins_file = sqlite_install.data_dir / "demo-logins.txt"
    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600
    assert _logins("\n" + "\n".join("  " + line for line in logins_file.read_text().splitlines())) == printed

    elsewhere = _logins(Install(None, tmp_path / "other").ok("demo"))
    assert set(elsewhere) == set(printed)
    assert not {p for p, _, _ in elsewhere.values()} & {p for p, _, _ in printed.values()}


def test_demo_seeds_once_with_records_that_look_real(install: Install) -> None:
    first = install.ok("demo")
    counts = {t: install.store.scalar(f"SELECT count(*) FROM {t}") for t in [*SYNCED, "users", "wilayah"]}
    again = install.ok("demo")
    assert "sudah ada" in again and _logins(again) == _logins(first)
    assert {t: install.store.scalar(f"SELECT count(*) FROM {t}") for t in counts} == counts
    assert counts["users"] == 4
    assert counts["wilayah"] == 2 + 2 + 2 + 14 + 4  # provinsi, kabupaten, kecamatan, desa
    _check_demo_records(install.store)


def _check_demo_records(store: Store) -> None:
    usulan = store.rows(
        "SELECT u.bidang_code, u.sub_bidang_code, u.volume, u.satuan, u.penerima_laki, u.penerima_perempuan, "
        "u.penerima_artm, u.biaya, u.sumber_dana, u.pola_pelaksanaan, u.skor_dirasakan, u.skor_parah, "
        "u.skor_pendapatan, u.skor_sering, u.skor_potensi, u.skor_total, m.jenis, p.jenis "
        "FROM usulan u JOIN musyawarah m ON m.id = u.musyawarah_id "
        "JOIN pengkajian p ON p.id = u.pengkajian_id "
        "WHERE u.kegiatan = 'Pembangunan drainase jalan dusun' AND u.desa_code = :d", d=DESA_GANRA)
    assert [tuple(r) for r in usulan] == [("2", "2.3", 250, "m", 96, 104, 21, 87_500_000, "DDS", "swakelola",
                                           5, 4, 3, 5, 4, 21, "musyawarah_dusun", "masalah")]
    hadir = store.rows("SELECT jenis_kelamin, count(*) FROM kehadiran GROUP BY jenis_kelamin ORDER BY 1")
    assert [r[0] for r in hadir] == ["L", "P"] and sum(r[1] for r in hadir) >= 10
    team = store.rows("SELECT jabatan, pendidikan, jenis_kelamin FROM kader "
                      "WHERE no_sk = '34/KPTS/DGR/VII/2020' ORDER BY jabatan DESC, pendidikan")
    assert [tuple(r) for r in team] == [("Ketua", "D-IV/S1", "P"), ("Anggota", "SLTA", "P"),
                                        ("Anggota", "SLTP", "L")]
    assert store.scalar("SELECT count(*) FROM dusun WHERE sebutan = 'Banjar Dinas' "
                        "AND desa_code IN ('51.08.01.2009', '51.08.01.2002')") >= 6
    assert store.scalar("SELECT count(*) FROM pengkajian WHERE skor_total <> skor_dirasakan + skor_parah "
                        "+ skor_pendapatan + skor_sering + skor_potensi") == 0
    for table in SYNCED:
        assert store.scalar(f"SELECT count(*) FROM {table} WHERE created_by IS NULL OR updated_by IS NULL "
                            "OR created_at IS NULL OR desa_code IS NULL") == 0, table


# --- several workers -------------------------------------------------------------------------------------

def test_serve_with_two_workers_on_postgresql(tmp_path: Path) -> None:
    with postgres_database() as url:
        inst = Install(url, tmp_path / "data")
        with serving(inst, "--workers", "2", "--no-demo") as (base, log):
            _wait_for(lambda: log.read_text().count("Application startup complete") == 2, log)
            for _ in range(8):  # a fresh connection each time, so the kernel may hand it to either worker
                assert httpx.get(f"{base}/api/health", timeout=5).status_code == 200
        output = log.read_text()
        assert len(set(re.findall(r"Started server process \[(\d+)\]", output))) == 2, output
        assert not _logins(output) and inst.store.scalar("SELECT count(*) FROM users") == 0  # --no-demo


def _wait_for(condition, log: Path, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; output:\n{log.read_text()}")
        time.sleep(0.1)
