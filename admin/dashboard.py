"""The kecamatan dashboard at ``/dasbor/``: a server-rendered page (no scripts, no external assets)
linked from piccolo-admin's sidebar, and the export downloads it links to.

It rides on the admin's log-in: the piccolo-admin session cookie is checked by the office's one session
check (``admin.scope.admin_from_session``: piccolo_api's rules, and the account must still be an active
admin, so a demoted or deactivated admin's open session stops working at once). An admin device token
(``Authorization: Bearer``) works too. Only GET: nothing here changes data, so piccolo-admin's CSRF
protection has nothing to guard.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from litestar import MediaType, Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from admin.scope import SESSION_COOKIE, admin_from_session
from server.auth.principal import Principal
from server.auth.service import principal_for_token
from server.errors import KaderError
from server.exports import dashboard as dashboard_service
from server.exports import reports
from server.exports.render import tanggal_indonesia
from server.exports.routes import ReadDB, file_response, provide_read_db

PATH = "/dasbor"  # not "/admin-…": Litestar sends every path that merely starts with "/admin" to the mount
SIDEBAR_LABEL = "Dasbor kecamatan"
ADMIN_PATH = "/admin/"
LABELS = {"daftar-gagasan": "Daftar gagasan (RKPDes)", "rekap-pengkajian": "Rekap pengkajian",
          "peringkat-masalah": "Peringkat masalah", "rekap-musyawarah": "Rekap musyawarah"}
TABLE_LABELS = {"usulan": "Usulan", "pengkajian": "Pengkajian", "musyawarah": "Musyawarah"}


async def authenticate(request: Request[Any, Any, State], db: AsyncSession) -> Principal:
    """The admin behind this request: a device token if one is sent, else the admin session cookie."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        principal = await principal_for_token(db, token.strip())
        if principal is None:
            raise KaderError("auth_invalid_token", "Token perangkat tidak dikenal atau sudah dicabut; masuk lagi.")
    else:
        principal = await _session_principal(db, request.cookies.get(SESSION_COOKIE, ""))
    principal.require_admin()
    return principal


async def _session_principal(db: AsyncSession, token: str) -> Principal:
    principal = await admin_from_session(db, token)  # the one check of an office session (admin/scope.py)
    if principal is None:
        raise KaderError("auth_required", "Masuk dulu lewat halaman admin.")
    return principal


def export_url(desa_code: str, berkas: str) -> str:
    return f"{PATH}/ekspor/{desa_code}/{berkas}"


@get("/", name="admin-dashboard", media_type=MediaType.HTML, include_in_schema=False)
async def dashboard_page(request: Request[Any, Any, State], rdb: ReadDB) -> Response[str]:
    who = await authenticate(request, rdb)
    data = await dashboard_service.dashboard(rdb, who, _prefixed(request, export_url))
    return _html(render_page(data), 200)


@get("/ekspor/{desa_code:str}/{berkas:str}", include_in_schema=False)
async def download(request: Request[Any, Any, State], rdb: ReadDB, desa_code: FromPath[str],
                   berkas: FromPath[str]) -> Response[bytes]:
    who = await authenticate(request, rdb)
    return file_response(await reports.export(rdb, who, desa_code, berkas))


def _prefixed(request: Request[Any, Any, State], make: Any) -> Any:
    root = request.scope.get("root_path", "")
    return lambda code, berkas: root + make(code, berkas)


# --- HTML -------------------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1f2933}
h1{font-size:1.4rem;margin:0 0 .25rem}p.meta{color:#52606d;margin:.2rem 0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #cbd2d9;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#e4f2e7}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;border-top:2px solid #52606d}
.warn{color:#b44d12;font-weight:bold}.ok{color:#2f8132}ul{margin:0;padding-left:1.1rem}
a{color:#0b5cad}small{color:#52606d}nav a{margin-right:1rem}
"""


def render_page(data: dashboard_service.Dashboard) -> str:
    local = reports.local_now(data.scope, data.generated_at)
    # A kecamatan's name is bare ("Gerokgak"); a kabupaten's carries its kind ("Kabupaten Buleleng").
    wilayah = f"Kecamatan {data.scope_name}" if len(data.scope) == 8 else data.scope_name
    totals = {k: sum(getattr(d, k) for d in data.desa) for k in ("awaiting_review", "open_conflicts")}
    by_state = {s: sum(d.by_state.get(s, 0) for d in data.desa) for s in ("perlu_perbaikan", "diverifikasi", "ditolak")}
    stale_total = sum(len(d.kader_not_synced) for d in data.desa)
    rows = "".join(_desa_row(d, local) for d in data.desa)
    empty = "" if data.desa else '<tr><td colspan="8">Belum ada desa dalam wilayah ini.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dasbor {escape(wilayah)} — Kader</title><style>{STYLE}</style></head>
<body>
<nav><a href="{ADMIN_PATH}">&larr; Kembali ke admin</a></nav>
<h1>Dasbor {escape(wilayah)}</h1>
<p class="meta">Wilayah {escape(data.scope)} · {len(data.desa)} desa · keadaan per
{escape(tanggal_indonesia(local.date()))} pukul {local:%H.%M} · kader dianggap belum sinkron bila tidak
mengirim atau mengambil data lebih dari {data.stale_after_days} hari.</p>
<table>
<thead><tr><th>Desa</th><th>Menunggu review (diajukan)</th><th>Perlu perbaikan</th><th>Diverifikasi</th>
<th>Ditolak</th><th>Konflik terbuka</th><th>Kader belum sinkron &gt; {data.stale_after_days} hari</th>
<th>Ekspor</th></tr></thead>
<tbody>{rows}{empty}</tbody>
<tfoot><tr class="total"><td>Jumlah</td><td class="n">{totals["awaiting_review"]}</td>
<td class="n">{by_state["perlu_perbaikan"]}</td><td class="n">{by_state["diverifikasi"]}</td>
<td class="n">{by_state["ditolak"]}</td><td class="n">{totals["open_conflicts"]}</td>
<td class="n">{stale_total}</td><td></td></tr></tfoot>
</table>
<p><small>Angka kiriman menghitung usulan, pengkajian dan musyawarah yang tidak dihapus. Ekspor memuat
semua data desa kecuali yang ditolak; XLSX untuk Excel (format Rp dan tanggal Indonesia), CSV dengan
pemisah titik koma.</small></p>
</body></html>"""


def _desa_row(d: dashboard_service.DesaSummary, local: dt.datetime) -> str:
    per_table = "; ".join(
        f"{TABLE_LABELS.get(t, t)} {sum(c.values())}" for t, c in d.submissions.items() if sum(c.values()))
    conflicts = f'<span class="warn">{d.open_conflicts}</span>' if d.open_conflicts else "0"
    if d.kader_not_synced:
        items = "".join(f"<li>{escape(k.nama or k.username)} <small>({escape(k.username)}) — "
                        f"{escape(_last_sync(k.last_sync_at, local))}</small></li>" for k in d.kader_not_synced)
        stale = f'<span class="warn">{len(d.kader_not_synced)} dari {d.kader_accounts}</span><ul>{items}</ul>'
    else:
        stale = f'<span class="ok">0</span> <small>dari {d.kader_accounts} kader</small>'
    links = "".join(
        f"<li>{escape(LABELS.get(r, r))}: "
        + " · ".join(f'<a href="{escape(d.exports[f"{r}.{f}"])}">{f.upper()}</a>' for f in reports.FORMATS)
        + "</li>" for r in reports.REPORTS)
    awaiting = f'<span class="warn">{d.awaiting_review}</span>' if d.awaiting_review else "0"
    return (f"<tr><td><strong>{escape(d.name)}</strong><br><small>{escape(d.code)}"
            f"{' · ' + escape(per_table) if per_table else ''}</small></td>"
            f'<td class="n">{awaiting}</td><td class="n">{d.by_state.get("perlu_perbaikan", 0)}</td>'
            f'<td class="n">{d.by_state.get("diverifikasi", 0)}</td><td class="n">{d.by_state.get("ditolak", 0)}</td>'
            f'<td class="n">{conflicts}</td><td>{stale}</td><td><ul>{links}</ul></td></tr>')


def _last_sync(at: dt.datetime | None, local: dt.datetime) -> str:
    if at is None:
        return "belum pernah sinkron"
    day = at.astimezone(local.tzinfo).date()
    return f"terakhir {tanggal_indonesia(day)} ({(local.date() - day).days} hari lalu)"


ERROR_TEXT = {
    401: ("Silakan masuk dulu", f'Halaman ini untuk admin kecamatan. <a href="{ADMIN_PATH}">Masuk lewat admin</a>, '
                                "lalu buka lagi dasbor dari menu samping."),
    403: ("Tidak diizinkan", "Halaman ini hanya untuk akun admin kecamatan."),
    404: ("Tidak ditemukan", "Desa atau ekspor itu tidak ada dalam wilayah akun ini."),
}


def html_error(_: Request[Any, Any, State], exc: KaderError) -> Response[str]:
    title, text = ERROR_TEXT.get(exc.status, ("Permintaan tidak dapat diproses", escape(exc.detail)))
    page = (f'<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><title>{escape(title)} — Kader</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1><p>{text}</p></body></html>")
    return _html(page, exc.status, exc.headers)


def _html(page: str, status: int, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(page, status_code=status, media_type=MediaType.HTML, headers={
        **(headers or {}), "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    })


def dashboard_router() -> Router:
    """Mounted by the app next to piccolo-admin; linked from its sidebar (admin/mount.py)."""
    return Router(path=PATH, route_handlers=[dashboard_page, download],
                  dependencies={"rdb": Provide(provide_read_db)}, exception_handlers={KaderError: html_error})
