// The wire schema on the phone. The fields per table, their types and limits, the vocabularies and
// the protocol constants come from contract.js, which `kader contract` generates from the server's
// sync/records.py (a test fails when it is out of date). This module applies that contract: a form
// checks her input with the server's own limits before anything is queued, so a value the server
// would refuse is a form error next to the field, never a refusal later.

import { MAX_MUTATIONS_PER_PUSH, PROTOCOL_VERSION, SCORE_FIELDS, TABLES as CONTRACT, VOCABULARY } from './contract.js';

export { MAX_MUTATIONS_PER_PUSH, PROTOCOL_VERSION, SCORE_FIELDS };
export const PULL_LIMIT = 500; // the app's page size (the server allows up to MAX_PULL_LIMIT)

export const JENIS_PENGKAJIAN = VOCABULARY.JenisPengkajian;
export const JENIS_MUSYAWARAH = VOCABULARY.JenisMusyawarah;
export const JENIS_KELAMIN = VOCABULARY.JenisKelamin;
export const UNSUR = VOCABULARY.Unsur;
export const SUMBER_DANA = VOCABULARY.SumberDana;
export const POLA_PELAKSANAAN = VOCABULARY.PolaPelaksanaan;
export const REVIEW_STATES = VOCABULARY.ReviewState;

export const SCORE_MAX = 5; // the common 1–5 scale the form offers; the server accepts up to 10

// The tables this app writes (the kecamatan keeps dusun and kader: the phone only reads those).
export const TABLES = Object.fromEntries(Object.entries(CONTRACT).filter(([, spec]) => !spec.adminOnly));

// Fields naming another record, and its table (the contract's `references`, sync/records.py): the
// server refuses a mutation naming a record it does not have, so the phone holds one until that record
// is taken (db.js planOutbox). A komentar names its record by record_table (null here) and record_id.
export const REFERENCES = Object.fromEntries(Object.entries(TABLES).map(([name, spec]) =>
  [name, { ...spec.references, ...(name === 'komentar' ? { record_id: null } : {}) }]));

// Tables a cadre's phone only reads (kept by the kecamatan), and the server's conflict records.
export const READ_ONLY_TABLES = ['dusun', 'kader', 'conflicts'];
export const REVIEWED_TABLES = ['pengkajian', 'musyawarah', 'usulan'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const patterns = new Map();
const matches = (pattern, value) => {
  if (!patterns.has(pattern)) patterns.set(pattern, new RegExp(pattern));
  return patterns.get(pattern).test(value);
};
// The server counts characters (code points); a string's .length counts UTF-16 units.
const chars = (s) => [...s].length;

function realDate(text) {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = m.slice(1).map(Number);
  const day = new Date(Date.UTC(2000, mo - 1, d)); // a leap year stands in for the year (checked below)
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return y >= 1 && mo >= 1 && mo <= 12 && day.getUTCMonth() === mo - 1 && !(mo === 2 && d === 29 && !leap);
}

// What is wrong with one value for a field spec of contract.js: null when it fits, else
// {code, …limits} for the message (see `invalid.*` in i18n).
export function fieldError(spec, value) {
  if (value === null || value === undefined) return spec.nullable ? null : { code: 'required' };
  switch (spec.type) {
    case 'text':
      if (typeof value !== 'string') return { code: 'type' };
      if (value.includes('\u0000')) return { code: 'type' };
      if (spec.minLength && chars(value) < spec.minLength) return { code: 'required' };
      if (spec.maxLength !== undefined && chars(value) > spec.maxLength) return { code: 'too_long', max: spec.maxLength };
      if (spec.pattern && !matches(spec.pattern, value)) return { code: 'pattern' };
      return null;
    case 'time':
      return typeof value === 'string' && matches(spec.pattern, value) ? null : { code: 'time' };
    case 'date':
      return typeof value === 'string' && realDate(value) ? null : { code: 'date' };
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return { code: 'integer', min: spec.min, max: spec.max };
      return value < spec.min || value > spec.max ? { code: 'integer', min: spec.min, max: spec.max } : null;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min || value > spec.max) {
        return { code: 'range', min: spec.min, max: spec.max };
      }
      return null;
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? null : { code: 'choice' };
    case 'enum':
      return spec.values.includes(value) ? null : { code: 'choice' };
    case 'list': {
      if (!Array.isArray(value)) return { code: 'type' };
      if (spec.maxItems !== undefined && value.length > spec.maxItems) return { code: 'too_many', max: spec.maxItems };
      if (spec.minItems && value.length < spec.minItems) return { code: 'required' };
      for (const item of value) {
        const e = fieldError(spec.item, item);
        if (e) return e.code === 'too_long' ? { code: 'item_too_long', max: e.max } : e;
      }
      return null;
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return { code: 'type' };
      if (Object.keys(value).some((k) => !(k in spec.fields))) return { code: 'type' };
      if (spec.required.some((k) => !(k in value))) return { code: 'required' };
      for (const [k, v] of Object.entries(value)) if (fieldError(spec.fields[k], v)) return { code: 'type' };
      return null;
    }
    default: return { code: 'type' };
  }
}

const blank = (v) => v === undefined || v === null || v === '';

// Problems with `changes` for `table` as {field: {code, …limits}}; empty when it fits. `creating`:
// the record goes out as a create, so the fields the server requires on create must be there
// (`row`: the record as it will be, the unchanged fields included).
export function validate(table, changes, creating = false, row = changes) {
  const spec = TABLES[table];
  if (!spec) return { _table: { code: 'unknown' } };
  const errors = {};
  for (const [name, value] of Object.entries(changes)) {
    const f = spec.fields[name];
    if (!f) { errors[name] = { code: 'unknown' }; continue; }
    const e = fieldError(f, value);
    if (e) errors[name] = e;
  }
  if (creating) for (const name of spec.required) if (blank(row[name])) errors[name] = { code: 'required' };
  return errors;
}

// A time of day in its one wire form: HH:MM, with :SS only when the seconds are not zero (what the
// server sends back too). Anything else is left as typed, for `validate` to point at.
export function wireTime(value) {
  if (typeof value !== 'string') return value;
  const m = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return value;
  return m[3] && m[3] !== '00' ? value : `${m[1]}:${m[2]}`;
}

// A time typed as text where the browser has no time input: "19.00" (the Indonesian way), "7:05".
function readTime(text) {
  const m = /^(\d{1,2})[.:](\d{2})(?:[.:](\d{2}))?$/.exec(text);
  return m ? [m[1].padStart(2, '0'), m[2], m[3]].filter(Boolean).join(':') : text;
}

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+([.,]\d+)?$/; // a comma or a point before the decimals (2,5 or 2.5)

// Turns what a form input holds into the field's wire value (docs/sync-protocol.md, "Fields"):
// empty → null for a nullable field, '' for text, [] for a list (one line per item); numbers → JSON
// numbers; a time → HH:MM. Text that is no number stays text, for `validate` to point at.
export function coerce(table, name, raw) {
  const f = TABLES[table]?.fields[name];
  if (!f) return raw;
  if (f.type === 'list') {
    if (Array.isArray(raw)) return raw;
    return String(raw ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
  }
  if (blank(raw)) return f.nullable ? null : f.type === 'text' ? '' : null;
  const text = String(raw).trim();
  if (f.type === 'integer') return INTEGER.test(text) ? Number(text) : raw;
  if (f.type === 'number') return DECIMAL.test(text) ? Number(text.replace(',', '.')) : raw;
  if (f.type === 'time') return wireTime(readTime(text));
  return raw;
}

// A stored value as the wire has it now (a time kept as 19:00:00 by an older version reads 19:00),
// so comparing it with a form's value sees no change where there is none.
export function canonical(table, name, value) {
  return TABLES[table]?.fields[name]?.type === 'time' ? wireTime(value) : value;
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
