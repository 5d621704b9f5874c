"""What piccolo-admin shows: which tables, in which menu group, which list columns, filters and order,
and the Indonesian titles and help texts of the columns (put into the table schemas by the gate).

Presentation lives here rather than in the SQLAlchemy models' ``info``: the models are shared by the
sync engine, the API and the exports, and these texts are the admin's alone (``info["piccolo"]`` stays
the place for how a column *maps*, see admin/tables.py). A test checks that every column named here
exists, so a renamed column cannot silently drop out of the admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import OrderBy
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException

from sync.engine.tables import MODELS

# Not shown: accounts, devices and sessions (cadre accounts have their own page, /admin/kantor/akun, and
# author pickers their own endpoint), and the sync engine's bookkeeping, which holds nothing an office
# decides on (the accounts page shows each cadre's last sync).
HIDDEN_TABLES = frozenset({"users", "devices", "admin_sessions", "login_failures", "sync_clients",
                           "processed_mutations", "sync_counter", "sync_meta"})
# Written only through the sync engine (admin/writes.py); every other table shown is read-only.
WRITABLE_TABLES = frozenset(MODELS)

DATA, DESA, SYNC, REFERENCE = "Data kiriman", "Desa & kader", "Sinkronisasi", "Referensi"

SERVER_OWNED = "Diatur server; perubahan di formulir ini diabaikan."
COMMON: dict[str, tuple[str, str | None]] = {
    "id": ("ID", None),
    "desa_code": ("Desa", "Desa pemilik rekaman; tidak bisa diubah setelah dibuat."),
    "version": ("Versi", "Versi saat formulir dibuka. Jangan diubah: dipakai untuk mengenali perubahan orang lain "
                         "sejak itu, yang menjadi konflik alih-alih tertimpa."),
    "change_seq": ("No. perubahan", SERVER_OWNED),
    "has_conflict": ("Ada konflik", "Selesaikan lewat Antrean konflik. " + SERVER_OWNED),
    "created_at": ("Dibuat", SERVER_OWNED),
    "updated_at": ("Diubah", SERVER_OWNED),
    "deleted_at": ("Dihapus", "Terisi bila rekaman dihapus (tetap disimpan agar HP kader ikut menghapusnya). "
                              + SERVER_OWNED),
    "created_by": ("Dibuat oleh", SERVER_OWNED),
    "updated_by": ("Diubah oleh", SERVER_OWNED),
    "review_state": ("Status tinjauan", "Mengubahnya di sini berarti meninjau: catatan wajib untuk "
                                        "perlu_perbaikan dan ditolak. Status dan catatan sampai ke HP kader."),
    "review_note": ("Catatan tinjauan", "Catatan untuk kader; ikut tersinkron ke HP-nya."),
    "reviewed_at": ("Ditinjau", SERVER_OWNED),
    "reviewed_by": ("Ditinjau oleh", SERVER_OWNED),
    "edited_by_admin": ("Diedit admin", "Ditandai bila admin kecamatan memperbaiki isinya. " + SERVER_OWNED),
    "skor_total": ("Skor total", "Jumlah kelima skor. " + SERVER_OWNED),
    "skor_dirasakan": ("Skor: dirasakan banyak orang", None),
    "skor_parah": ("Skor: sangat parah / mendesak", None),
    "skor_pendapatan": ("Skor: menghambat pendapatan", None),
    "skor_sering": ("Skor: sering terjadi", None),
    "skor_potensi": ("Skor: tersedia potensi", None),
    "bidang_code": ("Bidang", None),
    "sub_bidang_code": ("Sub-bidang", None),
    "dusun_id": ("Dusun", None),
    "musyawarah_id": ("Musyawarah", None),
    "pengkajian_id": ("Pengkajian", None),
    "jenis_kelamin": ("Jenis kelamin", None),
    "nama": ("Nama", None),
    "jenis": ("Jenis", None),
    "lokasi": ("Lokasi", None),
    "catatan": ("Catatan", None),
    "user_id": ("Akun", None),
}


@dataclass(frozen=True)
class Shown:
    group: str
    columns: tuple[str, ...]
    filters: tuple[str, ...]
    order: tuple[str, ...] = ("-updated_at",)
    link: str | None = None  # the column that opens the edit form (when the id is not listed)
    help: str = ""
    labels: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)


LIVE = ("deleted_at",)
SHOWN: dict[str, Shown] = {
    "pengkajian": Shown(
        DATA, ("uraian", "desa_code", "dusun_id", "jenis", "bidang_code", "skor_total", "review_state",
               "has_conflict", "created_by", "updated_at"),
        ("desa_code", "dusun_id", "jenis", "bidang_code", "review_state", "has_conflict", "edited_by_admin",
         "created_by", "created_at", "updated_at", "uraian", "kelompok_sumber", *LIVE),
        link="uraian",
        help="Pengkajian keadaan desa: masalah, potensi dan kebutuhan dengan skornya.",
        labels={"uraian": ("Uraian", None), "penyebab": ("Penyebab", None),
                "potensi_tersedia": ("Potensi tersedia", None), "usulan_tindakan": ("Usulan tindakan", None),
                "kelompok_sumber": ("Kelompok sumber", "Siapa yang mengangkatnya: perempuan, pemuda, …"),
                "latitude": ("Lintang", None), "longitude": ("Bujur", None), "akurasi_m": ("Akurasi (m)", None)}),
    "musyawarah": Shown(
        DATA, ("tanggal", "jenis", "desa_code", "dusun_id", "tempat", "pimpinan", "review_state", "has_conflict",
               "created_by", "updated_at"),
        ("desa_code", "dusun_id", "jenis", "tanggal", "review_state", "has_conflict", "edited_by_admin",
         "created_by", "created_at", "tempat", *LIVE),
        order=("-tanggal",), link="tanggal",
        help="Musyawarah dusun, kelompok dan desa, dengan notulen dan keputusannya.",
        labels={"tanggal": ("Tanggal", None), "kelompok": ("Kelompok", None), "jam_mulai": ("Jam mulai", None),
                "jam_selesai": ("Jam selesai", None), "tempat": ("Tempat", None), "pimpinan": ("Pimpinan", None),
                "pimpinan_unsur": ("Unsur pimpinan", None), "notulis": ("Notulis", None),
                "narasumber": ("Narasumber", 'Daftar JSON, mis. [{"nama": "…", "unsur": "…"}]'),
                "agenda": ("Agenda", None), "notulen": ("Notulen", None),
                "keputusan": ("Keputusan", 'Daftar JSON, mis. ["…", "…"]'),
                "foto": ("Foto", "Nama berkas foto (SHA-256) yang diunggah dari HP.")}),
    "kehadiran": Shown(
        DATA, ("nama", "musyawarah_id", "desa_code", "jenis_kelamin", "unsur", "dusun_id"),
        ("desa_code", "musyawarah_id", "jenis_kelamin", "unsur", "dusun_id", "nama", *LIVE),
        order=("musyawarah_id", "nama"), link="nama", help="Daftar hadir musyawarah, satu baris per orang.",
        labels={"unsur": ("Unsur", None)}),
    "usulan": Shown(
        DATA, ("kegiatan", "desa_code", "dusun_id", "bidang_code", "volume", "satuan", "biaya", "skor_total",
               "review_state", "has_conflict", "created_by", "updated_at"),
        ("desa_code", "dusun_id", "bidang_code", "sub_bidang_code", "sumber_dana", "review_state", "has_conflict",
         "edited_by_admin", "created_by", "created_at", "updated_at", "kegiatan", *LIVE),
        link="kegiatan", help="Daftar gagasan kegiatan yang menjadi bahan RKPDes.",
        labels={"kegiatan": ("Gagasan kegiatan", None), "kode_kegiatan": ("Kode kegiatan", None),
                "volume": ("Volume", None), "satuan": ("Satuan", None),
                "penerima_laki": ("Penerima laki-laki", None), "penerima_perempuan": ("Penerima perempuan", None),
                "penerima_artm": ("Penerima ARTM", "Rumah tangga miskin."), "biaya": ("Biaya (Rp)", None),
                "sumber_dana": ("Sumber dana", None), "pola_pelaksanaan": ("Pola pelaksanaan", None),
                "sdgs_desa": ("SDGs Desa", "Tujuan 1–18.")}),
    "komentar": Shown(
        DATA, ("isi", "record_table", "record_id", "desa_code", "created_by", "created_at"),
        ("desa_code", "record_table", "record_id", "created_by", "created_at", "isi"),
        order=("-created_at",), link="isi", help="Komentar pada rekaman (termasuk catatan tinjauan); hanya bertambah.",
        labels={"isi": ("Isi", None), "record_table": ("Tabel rekaman", None), "record_id": ("ID rekaman", None)}),
    "dusun": Shown(
        DESA, ("nama", "sebutan", "desa_code", "updated_at"), ("desa_code", "nama", *LIVE),
        order=("desa_code", "nama"), link="nama", help="Dusun (banjar, jorong, …) yang ditetapkan tiap desa.",
        labels={"sebutan": ("Sebutan", "Sebutan setempat: Dusun, Banjar Dinas, Jorong, …")}),
    "kader": Shown(
        DESA, ("nama", "desa_code", "jenis_kelamin", "jabatan", "status", "no_sk", "periode", "user_id"),
        ("desa_code", "jenis_kelamin", "jabatan", "status", "pendidikan", "nama", *LIVE),
        order=("desa_code", "nama"), link="nama", help="Register KPM desa (ditetapkan dengan SK kepala desa).",
        labels={"tanggal_lahir": ("Tanggal lahir", None), "pendidikan": ("Pendidikan", None),
                "jabatan": ("Jabatan", None), "no_sk": ("Nomor SK", None), "tanggal_sk": ("Tanggal SK", None),
                "periode": ("Periode", None), "bidang_tugas": ("Bidang tugas", None),
                "peran": ("Peran", 'Daftar JSON, mis. ["pemberdayaan masyarakat"]'), "alamat": ("Alamat", None),
                "telepon": ("Telepon", None), "status": ("Status", None),
                "pelatihan": ("Pelatihan", 'Daftar JSON, mis. ["…"]'),
                "user_id": ("Akun", "Akun aplikasi kader ini.")}),
    "conflicts": Shown(
        SYNC, ("table_name", "record_id", "desa_code", "kind", "resolved_at", "created_by", "created_at"),
        ("desa_code", "table_name", "kind", "resolved_at", "record_id", "created_by", "created_at"),
        order=("-created_at",), link="table_name",
        help="Hanya-baca. Selesaikan konflik lewat tautan Antrean konflik.",
        labels={"table_name": ("Tabel", None), "record_id": ("ID rekaman", None), "kind": ("Macam", None),
                "field_values": ("Nilai (dasar / ditahan / server)", None), "base_version": ("Versi dasar", None),
                "server_version": ("Versi server", None), "resolved_at": ("Diselesaikan", None),
                "resolved_by": ("Diselesaikan oleh", None), "resolution": ("Penyelesaian", None)}),
    "history": Shown(
        SYNC, ("id", "at", "table_name", "record_id", "version", "op", "via", "user_id", "changes", "desa_code"),
        ("desa_code", "table_name", "record_id", "op", "via", "user_id", "at"),
        order=("-id",), help="Hanya-baca. Setiap perubahan rekaman: siapa, kapan, bidang lama → baru. Riwayat satu "
                             "rekaman lebih mudah dibaca di halaman rinciannya (Tinjauan kiriman).",
        labels={"at": ("Waktu", None), "table_name": ("Tabel", None), "record_id": ("ID rekaman", None),
                "op": ("Perubahan", None), "via": ("Lewat", "sync: HP kader; admin; resolve: penyelesaian konflik"),
                "user_id": ("Oleh", None), "changes": ("Bidang: [lama, baru]", None)}),
    "wilayah": Shown(
        REFERENCE, ("code", "name", "kind", "level", "parent_code"), ("name", "kind", "level", "parent_code"),
        order=("code",), help="Hanya-baca. Wilayah dalam cakupan akun ini (kode Kemendagri).",
        labels={"code": ("Kode", None), "name": ("Nama", None), "kind": ("Jenis", None), "level": ("Tingkat", None),
                "parent_code": ("Induk", None)}),
    "bidang": Shown(
        REFERENCE, ("code", "nama", "parent_code"), ("nama", "parent_code"), order=("code",),
        help="Hanya-baca. Bidang dan sub-bidang kewenangan desa (Permendagri 20/2018).",
        labels={"code": ("Kode", None), "parent_code": ("Bidang induk", None)}),
}


def schema_texts(table: str) -> dict[str, Any]:
    """Titles and help texts of one table's columns, for the gate's schema rewrite."""
    shown = SHOWN.get(table)
    if shown is None:
        return {}
    return {"help": shown.help, "columns": {**COMMON, **shown.labels}}


def _refuse_write(*_: Any, **__: Any) -> None:
    # Never reached: the gate sends every table write to admin/writes.py. Kept as a second lock.
    raise HTTPException(status_code=405, detail="Admin writes go through the sync engine.")


def _order(table: type[Table], spec: str) -> OrderBy:
    return OrderBy(table._meta.get_column_by_name(spec.lstrip("-")), ascending=not spec.startswith("-"))


def table_configs(tables: Mapping[str, type[Table]]) -> list[TableConfig]:
    refuse = [_refuse_write]
    configs = []
    for name, shown in SHOWN.items():
        table = tables[name]
        col = table._meta.get_column_by_name
        configs.append(TableConfig(
            table_class=table,
            visible_columns=[col(c) for c in shown.columns],
            visible_filters=[col(c) for c in shown.filters],
            order_by=[_order(table, o) for o in shown.order],
            link_column=col(shown.link) if shown.link else None,
            menu_group=shown.group,
            validators=Validators(post_single=refuse, put_single=refuse, patch_single=refuse, delete_single=refuse,
                                  delete_all=refuse),
        ))
    return configs
