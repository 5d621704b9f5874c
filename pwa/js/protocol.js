// The wire schema on the phone: a mirror of sync/protocol.py (envelopes) and sync/records.py (fields
// per table) and sync/vocabulary.py. Keep the three in step; the server refuses what does not fit,
// and this module lets a form say so before anything is queued.

export const PROTOCOL_VERSION = 1;
export const MAX_MUTATIONS_PER_PUSH = 500;
export const PULL_LIMIT = 500;

export const JENIS_PENGKAJIAN = ['masalah', 'potensi', 'kebutuhan'];
export const JENIS_MUSYAWARAH = ['musyawarah_dusun', 'musyawarah_kelompok', 'musdes_perencanaan',
  'musrenbang_desa', 'musdes_lainnya', 'rembuk_stunting'];
export const JENIS_KELAMIN = ['L', 'P'];
export const UNSUR = ['pemerintah desa', 'BPD', 'tokoh adat', 'tokoh agama', 'tokoh masyarakat',
  'tokoh pendidik', 'kelompok tani', 'nelayan', 'perajin', 'perempuan',
  'pemerhati & perlindungan anak', 'masyarakat miskin', 'KPM', 'lainnya'];
export const SUMBER_DANA = ['DDS', 'ADD', 'PAD', 'PBH', 'Bankeu Provinsi', 'Bankeu Kabupaten', 'Swadaya', 'Lainnya'];
export const POLA_PELAKSANAAN = ['swakelola', 'kerja sama antar desa', 'kerja sama pihak ketiga'];
export const REVIEW_STATES = ['draf', 'diajukan', 'diverifikasi', 'perlu_perbaikan', 'ditolak'];

export const SCORE_FIELDS = ['skor_dirasakan', 'skor_parah', 'skor_pendapatan', 'skor_sering', 'skor_potensi'];
export const SCORE_MAX = 5; // the common 1–5 scale; the server accepts up to 10

// Field types: s = text (max length), i = integer [min, max], f = number [min, max], d = date,
// t = time, u = uuid, e = one of a list, l = list of texts. `n` = may be null.
const text = (max, min = 0) => ({ type: 's', max, min });
const int = (min, max, n = true) => ({ type: 'i', min, max, n });
const num = (min, max, n = true) => ({ type: 'f', min, max, n });
const uuidRef = (n = true) => ({ type: 'u', n });
const oneOf = (values, n = false) => ({ type: 'e', values, n });
const LONG = 20000;
const score = int(0, 10);
const scores = Object.fromEntries(SCORE_FIELDS.map((f) => [f, score]));
const BIDANG = /^[1-5](\.[0-9]{1,2})?$/;

export const TABLES = {
  pengkajian: {
    required: ['jenis', 'uraian'],
    fields: {
      jenis: oneOf(JENIS_PENGKAJIAN), bidang_code: { type: 'b', n: true }, uraian: text(LONG, 1),
      penyebab: text(LONG), potensi_tersedia: text(LONG), usulan_tindakan: text(LONG), dusun_id: uuidRef(),
      kelompok_sumber: text(120), lokasi: text(LONG), latitude: num(-90, 90), longitude: num(-180, 180),
      akurasi_m: num(0, 100000), ...scores, peringkat: int(1, 10000),
    },
  },
  musyawarah: {
    required: ['jenis', 'tanggal'],
    fields: {
      jenis: oneOf(JENIS_MUSYAWARAH), kelompok: text(80), tanggal: { type: 'd' }, jam_mulai: { type: 't', n: true },
      jam_selesai: { type: 't', n: true }, tempat: text(200), dusun_id: uuidRef(), pimpinan: text(120),
      pimpinan_unsur: text(60), notulis: text(120), agenda: text(LONG), notulen: text(100000),
      keputusan: { type: 'l', max: 200, item: LONG }, foto: { type: 'h', max: 50 },
    },
  },
  kehadiran: {
    required: ['musyawarah_id', 'nama', 'jenis_kelamin'],
    fields: {
      musyawarah_id: uuidRef(false), nama: text(120, 1), jenis_kelamin: oneOf(JENIS_KELAMIN),
      unsur: oneOf(UNSUR), dusun_id: uuidRef(),
    },
  },
  usulan: {
    required: ['kegiatan'],
    fields: {
      kegiatan: text(2000, 1), musyawarah_id: uuidRef(), pengkajian_id: uuidRef(), bidang_code: { type: 'b', n: true },
      sub_bidang_code: { type: 'b', n: true }, kode_kegiatan: text(20), lokasi: text(LONG), dusun_id: uuidRef(),
      volume: num(0, 1e12), satuan: text(30), penerima_laki: int(0, 1e7), penerima_perempuan: int(0, 1e7),
      penerima_artm: int(0, 1e7), biaya: int(0, 1e15), sumber_dana: oneOf(SUMBER_DANA, true),
      pola_pelaksanaan: oneOf(POLA_PELAKSANAAN, true), sdgs_desa: int(1, 18), ...scores,
      peringkat: int(1, 10000), catatan: text(LONG),
    },
  },
  komentar: {
    required: ['record_table', 'record_id', 'isi'],
    appendOnly: true,
    fields: { record_table: text(40), record_id: uuidRef(false), isi: text(5000, 1) },
  },
};

// Fields naming another record, and its table (sync/records.py, TableSpec.references): the server
// refuses a mutation naming a record it does not have, so the phone holds one until that record is
// taken (db.js planOutbox). A komentar names its record by record_table (null here) and record_id.
export const REFERENCES = {
  pengkajian: { dusun_id: 'dusun' },
  musyawarah: { dusun_id: 'dusun' },
  kehadiran: { musyawarah_id: 'musyawarah', dusun_id: 'dusun' },
  usulan: { musyawarah_id: 'musyawarah', pengkajian_id: 'pengkajian', dusun_id: 'dusun' },
  komentar: { record_id: null },
};

// Tables a cadre's phone only reads (kept by the kecamatan), and the server's conflict records.
export const READ_ONLY_TABLES = ['dusun', 'kader', 'conflicts'];
export const REVIEWED_TABLES = ['pengkajian', 'musyawarah', 'usulan'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fieldError(spec, value) {
  if (value === null || value === undefined) return spec.n || spec.type === 's' ? null : 'required';
  switch (spec.type) {
    case 's': return typeof value !== 'string' ? 'type' : value.length < spec.min ? 'required'
      : value.length > spec.max ? 'too_long' : null;
    case 'i': return !Number.isInteger(value) ? 'type' : value < spec.min || value > spec.max ? 'range' : null;
    case 'f': return typeof value !== 'number' || !Number.isFinite(value) ? 'type'
      : value < spec.min || value > spec.max ? 'range' : null;
    case 'd': return /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : 'type';
    case 't': return /^\d{2}:\d{2}(:\d{2})?$/.test(value) ? null : 'type';
    case 'u': return UUID.test(value) ? null : 'type';
    case 'b': return BIDANG.test(value) ? null : 'type';
    case 'e': return spec.values.includes(value) ? null : 'type';
    case 'l': return Array.isArray(value) && value.length <= spec.max
      && value.every((v) => typeof v === 'string' && v.length <= spec.item) ? null : 'type';
    case 'h': return Array.isArray(value) && value.length <= spec.max
      && value.every((v) => /^[0-9a-f]{64}$/.test(v)) ? null : 'type';
    default: return 'type';
  }
}

// Problems with `changes` for `table` as {field: code}; empty when it fits. `creating` checks the
// fields the server requires on create.
export function validate(table, changes, creating = false) {
  const spec = TABLES[table];
  const errors = {};
  if (!spec) return { _table: 'unknown' };
  for (const [name, value] of Object.entries(changes)) {
    const f = spec.fields[name];
    if (!f) { errors[name] = 'unknown'; continue; }
    const e = fieldError(f, value);
    if (e) errors[name] = e;
  }
  if (creating) {
    for (const name of spec.required) {
      const v = changes[name];
      if (v === undefined || v === null || v === '') errors[name] = 'required';
    }
  }
  return errors;
}

// Turns a typed-in text into the field's wire value ('' → null for nullable non-text fields).
export function coerce(table, name, raw) {
  const f = TABLES[table]?.fields[name];
  if (!f) return raw;
  if (raw === '' || raw === undefined) return f.type === 's' ? '' : null;
  if (f.type === 'i') return Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (f.type === 'f') return Number.isFinite(Number(String(raw).replace(',', '.'))) ? Number(String(raw).replace(',', '.')) : raw;
  if (f.type === 'l') return String(raw).split('\n').map((s) => s.trim()).filter(Boolean);
  return raw;
}

export function scoreTotal(row) {
  const given = SCORE_FIELDS.map((f) => row[f]).filter((v) => Number.isInteger(v));
  return given.length ? given.reduce((a, b) => a + b, 0) : null;
}

// The device names every record (DESIGN §3.1): UUID v7, time-ordered, random tail.
export function uuidv7() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
