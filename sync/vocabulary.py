"""Closed vocabularies of the domain (DOMAIN.md). Part of the wire contract, so they live in ``sync``
(``kader contract`` writes them into the phone's pwa/js/contract.js); the models store them as checked strings."""

from __future__ import annotations

from enum import StrEnum


class WilayahKind(StrEnum):
    provinsi = "provinsi"
    kabupaten = "kabupaten"
    kota = "kota"
    kecamatan = "kecamatan"
    distrik = "distrik"
    kelurahan = "kelurahan"
    desa = "desa"
    desa_adat = "desa_adat"


class JenisKelamin(StrEnum):
    L = "L"
    P = "P"


class Pendidikan(StrEnum):
    tidak_sekolah = "TIDAK/BELUM SEKOLAH"
    belum_tamat_sd = "BELUM TAMAT SD"
    tamat_sd = "TAMAT SD"
    sltp = "SLTP"
    slta = "SLTA"
    diploma_1_2 = "DIPLOMA I/II"
    d3 = "AKADEMI/D-III"
    s1 = "D-IV/S1"
    s2 = "S2"
    s3 = "S3"


class Jabatan(StrEnum):
    ketua = "Ketua"
    sekretaris = "Sekretaris"
    anggota = "Anggota"


class StatusKader(StrEnum):
    aktif = "aktif"
    berhenti = "berhenti"


class Role(StrEnum):
    kader = "kader"
    admin = "admin"


class JenisPengkajian(StrEnum):
    masalah = "masalah"
    potensi = "potensi"
    kebutuhan = "kebutuhan"


class JenisMusyawarah(StrEnum):
    dusun = "musyawarah_dusun"
    kelompok = "musyawarah_kelompok"
    desa_perencanaan = "musdes_perencanaan"
    musrenbang_desa = "musrenbang_desa"
    desa_lainnya = "musdes_lainnya"
    rembuk_stunting = "rembuk_stunting"


class Unsur(StrEnum):
    pemerintah_desa = "pemerintah desa"
    bpd = "BPD"
    tokoh_adat = "tokoh adat"
    tokoh_agama = "tokoh agama"
    tokoh_masyarakat = "tokoh masyarakat"
    tokoh_pendidik = "tokoh pendidik"
    kelompok_tani = "kelompok tani"
    nelayan = "nelayan"
    perajin = "perajin"
    perempuan = "perempuan"
    pemerhati_anak = "pemerhati & perlindungan anak"
    masyarakat_miskin = "masyarakat miskin"
    kpm = "KPM"
    lainnya = "lainnya"


class SumberDana(StrEnum):
    dds = "DDS"
    add = "ADD"
    pad = "PAD"
    pbh = "PBH"
    bankeu_provinsi = "Bankeu Provinsi"
    bankeu_kabupaten = "Bankeu Kabupaten"
    swadaya = "Swadaya"
    lainnya = "Lainnya"


class PolaPelaksanaan(StrEnum):
    swakelola = "swakelola"
    kerja_sama_antar_desa = "kerja sama antar desa"
    kerja_sama_pihak_ketiga = "kerja sama pihak ketiga"


class ReviewState(StrEnum):
    draf = "draf"
    diajukan = "diajukan"
    diverifikasi = "diverifikasi"
    perlu_perbaikan = "perlu_perbaikan"
    ditolak = "ditolak"
