"""piccolo-admin's screens in Bahasa Indonesia (the default); English stays selectable.

Keys are piccolo-admin's English phrases (piccolo_admin/translations/data.py, ``ENGLISH``); a test
checks that every one of them has a translation here.
"""

from __future__ import annotations

from piccolo_admin.translations.data import ENGLISH
from piccolo_admin.translations.models import Translation

INDONESIAN = Translation(
    language_name="Bahasa Indonesia",
    language_code="id",
    translations={
        "About": "Tentang",
        "Add Row": "Tambah rekaman",
        "Add": "Tambah",
        "Apply": "Terapkan",
        "Ascending": "Naik",
        "Back to home page": "Kembali ke beranda",
        "Back": "Kembali",
        "Change Password": "Ganti kata sandi",
        "Clear filters": "Hapus saringan",
        "Close": "Tutup",
        "Comma": "Koma",
        "Create": "Buat",
        "Current password": "Kata sandi sekarang",
        "Dark Mode": "Mode gelap",
        "Days": "Hari",
        "Delete": "Hapus",
        "Delimiter": "Pemisah",
        "Descending": "Turun",
        "Download": "Unduh",
        "Download failed": "Gagal mengunduh",
        "Download successful": "Berhasil diunduh",
        "Edit": "Ubah",
        "Export CSV": "Ekspor CSV",
        "Filter": "Saring",
        "For timestamps which are timezone aware, they will be displayed in this timezone by default.":
            "Waktu yang menyimpan zona waktu ditampilkan dalam zona waktu ini.",
        "Form submitted": "Formulir terkirim",
        "Forms": "Formulir",
        "Hide Filters": "Sembunyikan saringan",
        "Hide referencing tables": "Sembunyikan tabel yang merujuk",
        "Home": "Beranda",
        "Hours": "Jam",
        "Light Mode": "Mode terang",
        "Links": "Tautan",
        "Loading": "Memuat",
        "Log Out": "Keluar",
        "Login": "Masuk",
        "MFA Code": "Kode MFA",
        "MFA Setup": "Pengaturan MFA",
        "Minutes": "Menit",
        "New password confirmation": "Ulangi kata sandi baru",
        "New password": "Kata sandi baru",
        "New value": "Nilai baru",
        "No results found": "Tidak ada hasil",
        "Note: Large data sets may take a while.": "Catatan: data yang besar bisa memakan waktu.",
        "Note: They are converted to UTC when stored in the database.": "Catatan: disimpan di basis data dalam UTC.",
        "of": "dari",
        "page": "halaman",
        "Password": "Kata sandi",
        "result(s)": "hasil",
        "rows": "baris",
        "Save": "Simpan",
        "Seconds": "Detik",
        "Select a column to update": "Pilih kolom yang akan diubah",
        "Select a Column": "Pilih kolom",
        "Select a table in the sidebar to get started.":
            "Pilih tabel di menu samping untuk mulai, atau buka Tinjauan kiriman dan Antrean konflik di Tautan.",
        "selected result(s) on": "hasil terpilih di",
        "Semicolon": "Titik koma",
        "Set Timezone": "Atur zona waktu",
        "Show Filters": "Tampilkan saringan",
        "Show referencing tables": "Tampilkan tabel yang merujuk",
        "Showing": "Menampilkan",
        "Sort by": "Urutkan menurut",
        "Sort": "Urutkan",
        "Submit": "Kirim",
        "Tables": "Tabel",
        "Timezone": "Zona waktu",
        "Thanks for using Piccolo Admin.": "Terima kasih telah memakai admin Kader (dibangun di atas Piccolo Admin).",
        "Update": "Perbarui",
        "Use again": "Pakai lagi",
        "Username": "Nama pengguna",
        "Version": "Versi",
        "Weeks": "Minggu",
        "Welcome to": "Selamat datang di",
        "with a matching": "yang cocok dengan",
    },
)

DEFAULT_LANGUAGE = INDONESIAN.language_code
TRANSLATIONS = [INDONESIAN, ENGLISH]
