// Pengkajian (masalah / potensi / kebutuhan with the five-criteria scoring), usulan (the ranked list
// per desa), and search across every kind by dusun, kind and state.

import { app } from '../app.js';
import * as db from '../db.js';
import { formatDate, formatNumber, label, t } from '../i18n/index.js';
import { JENIS_PENGKAJIAN, POLA_PELAKSANAAN, REVIEW_STATES, SCORE_FIELDS, SUMBER_DANA, scoreTotal, uuidv7,
  validate } from '../protocol.js';
import { choices, field, formValues, h, input, markClean, markDirty, replace, scoreInputs, select, textarea,
  toast } from '../ui.js';
import { bidangName, byMeetingTime, changedFields, dusunMap, dusunSelect, money, musyawarahLabel, pagedList, rankByScore,
  recordRow, reviewBox, stateOf } from './common.js';

// ---- shared form plumbing ----------------------------------------------------------------------

// "Total skor 21 — peringkat 2 dari 4": where the record would stand with the scores on screen, among
// the others it is ranked with (rankByScore: pengkajian of the same jenis).
function scoreSummary(table, others, rec, id) {
  const out = h('p', { class: 'score-summary', 'data-testid': 'score-summary' });
  const groupBy = RANKED_BY[table];
  const update = (form) => {
    const row = { review_state: rec?.row.review_state };
    for (const f of SCORE_FIELDS) {
      const v = form.elements[f]?.value;
      row[f] = v ? Number(v) : null;
    }
    if (groupBy) row[groupBy] = form.elements[groupBy]?.value || rec?.row[groupBy];
    const total = scoreTotal(row);
    if (total === null) { replace(out, t('score.none')); return; }
    const ranked = rankByScore([...others.filter((r) => r.id !== id), { id, row }], groupBy);
    const me = ranked.find((s) => s.rec.id === id);
    const of = ranked.filter((s) => s.rank && (!groupBy || s.rec.row[groupBy] === row[groupBy])).length;
    replace(out, me.rank ? t('score.summary', { total, rank: me.rank, of }) : t('score.total', { total }));
  };
  return { out, update };
}

// The field whose values are ranked apart (sync/ranking.py: pengkajian per jenis).
const RANKED_BY = { pengkajian: 'jenis', usulan: null };

// A form error in words, with the limit it broke ("Paling banyak 200 huruf.").
export function invalidText(error) {
  return t(`invalid.${error.code}`, { max: formatNumber(error.max), min: formatNumber(error.min) });
}

// Shows each problem next to its field (the form itself for a value without one); clears old ones.
export function showErrors(form, errors) {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  for (const [name, error] of Object.entries(errors)) {
    const el = form.elements[name];
    (el?.length ? [...el] : [el]).forEach((x) => x?.setAttribute?.('aria-invalid', 'true'));
    const target = el?.closest?.('.field, fieldset') || (el?.[0]?.closest?.('fieldset')) || form;
    target.append(h('p', { class: 'error field-error', 'data-field': name }, invalidText(error)));
  }
  form.querySelector('.field-error')?.scrollIntoView({ block: 'center' });
}

// Validates with the server's own limits (contract.js) and saves; shows each problem next to its
// field and queues nothing while one is left. Returns 'saved', 'unchanged' or false.
export async function saveForm(form, table, id, rec, values, extra = {}, attachments = []) {
  const row = rec?.row || {};
  const changes = { ...changedFields(table, values, row), ...extra };
  const creating = !rec || (!rec.version && !rec.pending); // goes out as a create: required fields must be there
  const errors = validate(table, changes, creating, { ...row, ...changes });
  showErrors(form, errors);
  if (Object.keys(errors).length) return false;
  markClean();
  if (!Object.keys(changes).length && !rec?.refused) return 'unchanged'; // saving a refused record sends it again
  await db.saveRecord(table, id, changes, attachments);
  app.saved();
  return 'saved';
}

// After a save: move on first, then say so (the toast must not race the navigation).
export function afterSave(result, path) {
  if (!result) return;
  if (path !== undefined) app.go(path); else app.refresh();
  toast(t(result === 'saved' ? 'form.saved' : 'form.nothing_changed'));
}

export function formShell(onsubmit, ...parts) {
  return h('form', { class: 'record-form', novalidate: true, oninput: markDirty, onchange: markDirty, onsubmit }, parts);
}

export const saveBar = () => h('div', { class: 'save-bar' }, h('button', { type: 'submit', class: 'primary big' }, t('form.save')));

// ---- pengkajian ---------------------------------------------------------------------------------

export async function pengkajianScreen(el, [id]) {
  if (id) return pengkajianForm(el, id);
  const [records, dusun] = await Promise.all([db.listRecords('pengkajian'), dusunMap()]);
  // Each filter's first choice names what it filters ("Semua dusun"): a bare "— pilih —" says nothing.
  const filter = h('form', { class: 'filters', onchange: () => draw() },
    select('jenis', JENIS_PENGKAJIAN.map((j) => [j, label('jenis', j)]), '',
      { empty: t('filter.all_jenis'), 'aria-label': t('form.jenis') }),
    dusunSelect(dusun, '', 'dusun', { empty: t('filter.all_dusun'), 'aria-label': t('form.dusun') }),
    select('state', REVIEW_STATES.map((s) => [s, label('state', s)]), '',
      { empty: t('filter.all_state'), 'aria-label': t('filter.state') }));
  const body = h('div');
  const ranked = rankByScore(records, RANKED_BY.pengkajian); // ranked among all, whatever the filter shows
  const draw = () => {
    const f = formValues(filter);
    const shown = ranked.filter(({ rec: r }) => (!f.jenis || r.row.jenis === f.jenis)
      && (!f.dusun || r.row.dusun_id === f.dusun) && (!f.state || stateOf(r) === f.state));
    replace(body, pagedList(shown, (s) => recordRow('pengkajian', s.rec, {
      title: s.rec.row.uraian, rank: s.rank, total: s.total,
      sub: [label('jenis', s.rec.row.jenis), dusun.get(s.rec.row.dusun_id)].filter(Boolean).join(' · '),
    })));
  };
  draw();
  replace(el, h('div', { class: 'head' }, h('h1', {}, t('nav.pengkajian')),
    h('a', { class: 'button primary', href: '#/pengkajian/baru', 'data-testid': 'new' }, t('form.new'))),
  h('p', { class: 'muted' }, t('pengkajian.intro')), filter, body);
}

async function pengkajianForm(el, id) {
  const isNew = id === 'baru';
  const recId = isNew ? uuidv7() : id;
  const [rec, dusun, bidang, others] = await Promise.all([
    isNew ? null : db.getRecord('pengkajian', id), dusunMap(), db.getReference('bidang'), db.listRecords('pengkajian'),
  ]);
  if (!isNew && !rec) { replace(el, h('p', {}, t('form.not_found'))); return; }
  const row = rec?.row || { jenis: 'masalah' };
  const gps = { latitude: row.latitude ?? null, longitude: row.longitude ?? null, akurasi_m: row.akurasi_m ?? null };
  const gpsText = h('span', { 'data-testid': 'gps' });
  const showGps = () => replace(gpsText, gps.latitude === null ? t('gps.none')
    : t('gps.at', { lat: gps.latitude.toFixed(5), lon: gps.longitude.toFixed(5), acc: Math.round(gps.akurasi_m ?? 0) }));
  showGps();
  const takeGps = () => {
    if (!navigator.geolocation) { toast(t('gps.unavailable')); return; }
    replace(gpsText, t('gps.busy'));
    navigator.geolocation.getCurrentPosition((p) => {
      Object.assign(gps, { latitude: p.coords.latitude, longitude: p.coords.longitude, akurasi_m: p.coords.accuracy });
      markDirty();
      showGps();
    }, () => { toast(t('gps.failed')); showGps(); }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 60000 });
  };
  const summary = scoreSummary('pengkajian', others, rec, recId);
  const form = formShell(async (e) => {
    e.preventDefault();
    const values = formValues(form);
    const extra = {};
    for (const k of ['latitude', 'longitude', 'akurasi_m']) if (gps[k] !== (row[k] ?? null)) extra[k] = gps[k];
    afterSave(await saveForm(form, 'pengkajian', recId, rec, values, extra), 'pengkajian');
  },
  choices('jenis', JENIS_PENGKAJIAN.map((j) => [j, label('jenis', j)]), row.jenis, t('form.jenis')),
  field(t('form.bidang'), select('bidang_code', (bidang || []).map((b) => [b.code, bidangName(bidang, b.code)]), row.bidang_code)),
  field(t('pengkajian.uraian'), textarea('uraian', row.uraian, { required: true, maxlength: 20000 })),
  field(t('pengkajian.penyebab'), textarea('penyebab', row.penyebab)),
  field(t('pengkajian.potensi'), textarea('potensi_tersedia', row.potensi_tersedia)),
  field(t('pengkajian.tindakan'), textarea('usulan_tindakan', row.usulan_tindakan)),
  field(t('form.dusun'), dusunSelect(dusun, row.dusun_id)),
  field(t('pengkajian.kelompok'), input('kelompok_sumber', row.kelompok_sumber, { maxlength: 120 })),
  field(t('form.lokasi'), input('lokasi', row.lokasi)),
  h('div', { class: 'gps' }, gpsText,
    h('button', { type: 'button', onclick: takeGps }, t('gps.take')),
    h('button', { type: 'button', onclick: () => { Object.assign(gps, { latitude: null, longitude: null, akurasi_m: null }); markDirty(); showGps(); } },
      t('gps.clear'))),
  h('h2', {}, t('score.title')),
  scoreInputs(SCORE_FIELDS, row, () => summary.update(form)),
  summary.out,
  saveBar());
  summary.update(form);
  form.addEventListener('change', (e) => { if (e.target.name === 'jenis') summary.update(form); }); // ranked per jenis
  replace(el, h('h1', {}, isNew ? t('pengkajian.new') : t('pengkajian.edit')), await reviewBox('pengkajian', rec), form);
}

// ---- usulan -------------------------------------------------------------------------------------

export async function usulanScreen(el, [id]) {
  if (id) return usulanForm(el, id);
  const [records, dusun, bidang] = await Promise.all([db.listRecords('usulan'), dusunMap(), db.getReference('bidang')]);
  replace(el, h('div', { class: 'head' }, h('h1', {}, t('usulan.ranked')),
    h('a', { class: 'button primary', href: '#/usulan/baru', 'data-testid': 'new' }, t('form.new'))),
  h('p', { class: 'muted' }, t('usulan.intro')),
  pagedList(rankByScore(records, RANKED_BY.usulan), (s) => recordRow('usulan', s.rec, {
    title: s.rec.row.kegiatan, rank: s.rank, total: s.total,
    sub: [bidangName(bidang || [], s.rec.row.sub_bidang_code || s.rec.row.bidang_code), dusun.get(s.rec.row.dusun_id),
      money(s.rec.row.biaya)].filter(Boolean).join(' · '),
  })));
}

async function usulanForm(el, id) {
  const isNew = id === 'baru';
  const recId = isNew ? uuidv7() : id;
  const [rec, dusun, bidangRef, others, musyawarah, pengkajian] = await Promise.all([
    isNew ? null : db.getRecord('usulan', id), dusunMap(), db.getReference('bidang'), db.listRecords('usulan'),
    db.listRecords('musyawarah'), db.listRecords('pengkajian'),
  ]);
  if (!isNew && !rec) { replace(el, h('p', {}, t('form.not_found'))); return; }
  const bidang = bidangRef || [];
  const row = rec?.row || {};
  const subSelect = h('div');
  const drawSub = (parent, value) => replace(subSelect, field(t('usulan.sub_bidang'), select('sub_bidang_code',
    bidang.filter((b) => b.parent_code && b.parent_code === parent).map((b) => [b.code, `${b.code} ${b.nama}`]), value)));
  drawSub(row.bidang_code, row.sub_bidang_code);
  const biayaText = h('small', { 'data-testid': 'biaya-text' }, money(row.biaya));
  // A closed select shows only the start of a long choice: the whole of it is repeated underneath.
  const meetingText = h('small', { 'data-testid': 'musyawarah-text' });
  const meetingPicker = select('musyawarah_id',
    [...musyawarah].sort(byMeetingTime).map((m) => [m.id, musyawarahLabel(m.row, dusun)]), row.musyawarah_id,
    { onchange: (e) => replace(meetingText, e.target.value ? e.target.selectedOptions[0].text : '') });
  if (row.musyawarah_id) replace(meetingText, meetingPicker.selectedOptions[0]?.text || '');
  const summary = scoreSummary('usulan', others, rec, recId);
  const form = formShell(async (e) => {
    e.preventDefault();
    const values = formValues(form);
    values.biaya = values.biaya.replace(/[^\d]/g, '');
    afterSave(await saveForm(form, 'usulan', recId, rec, values), 'usulan');
  },
  field(t('usulan.kegiatan'), textarea('kegiatan', row.kegiatan, { required: true, maxlength: 2000 })),
  field(t('usulan.musyawarah'), meetingPicker, meetingText),
  field(t('usulan.pengkajian'), select('pengkajian_id', pengkajian.map((p) => [p.id, String(p.row.uraian || '').slice(0, 80)]), row.pengkajian_id)),
  field(t('form.bidang'), select('bidang_code', bidang.filter((b) => !b.parent_code).map((b) => [b.code, `${b.code} ${b.nama}`]),
    row.bidang_code, { onchange: (e) => drawSub(e.target.value, null) })),
  subSelect,
  field(t('usulan.kode'), input('kode_kegiatan', row.kode_kegiatan, { maxlength: 20 })),
  field(t('form.lokasi'), input('lokasi', row.lokasi)),
  field(t('form.dusun'), dusunSelect(dusun, row.dusun_id)),
  h('div', { class: 'pair' },
    field(t('usulan.volume'), input('volume', row.volume, { inputmode: 'decimal' })),
    field(t('usulan.satuan'), input('satuan', row.satuan, { maxlength: 30 }))),
  h('fieldset', { class: 'group' }, h('legend', {}, t('usulan.penerima')),
    h('div', { class: 'triple' },
      field(t('usulan.laki'), input('penerima_laki', row.penerima_laki, { inputmode: 'numeric' })),
      field(t('usulan.perempuan'), input('penerima_perempuan', row.penerima_perempuan, { inputmode: 'numeric' })),
      field(t('usulan.artm'), input('penerima_artm', row.penerima_artm, { inputmode: 'numeric' })))),
  field(t('usulan.biaya'), input('biaya', row.biaya, { inputmode: 'numeric',
    oninput: (e) => replace(biayaText, money(e.target.value.replace(/[^\d]/g, ''))) }), biayaText),
  field(t('usulan.sumber'), select('sumber_dana', SUMBER_DANA.map((s) => [s, label('dana', s)]), row.sumber_dana)),
  field(t('usulan.pola'), select('pola_pelaksanaan', POLA_PELAKSANAAN.map((s) => [s, label('pola', s)]), row.pola_pelaksanaan)),
  field(t('usulan.sdgs'), select('sdgs_desa', Array.from({ length: 18 }, (_, i) => [i + 1, `${i + 1}. ${label('sdgs', i + 1)}`]), row.sdgs_desa)),
  h('h2', {}, t('score.title')),
  scoreInputs(SCORE_FIELDS, row, () => summary.update(form)),
  summary.out,
  field(t('usulan.catatan'), textarea('catatan', row.catatan)),
  saveBar());
  summary.update(form);
  replace(el, h('h1', {}, isNew ? t('usulan.new') : t('usulan.edit')), await reviewBox('usulan', rec), form);
}

// ---- search -------------------------------------------------------------------------------------

const KINDS = { pengkajian: 'uraian', musyawarah: 'tempat', usulan: 'kegiatan' };

export async function searchScreen(el, _rest, params) {
  const [dusun, ...lists] = await Promise.all([dusunMap(), ...Object.keys(KINDS).map((k) => db.listRecords(k))]);
  const all = Object.keys(KINDS).flatMap((kind, i) => lists[i].map((rec) => ({ kind, rec })));
  const states = [...REVIEW_STATES.map((s) => [s, label('state', s)]), ['pending', t('mark.unsent')],
    ['conflict', t('mark.conflict')], ['rejected', t('mark.rejected')]];
  const filter = h('form', { class: 'filters', oninput: () => draw(), onsubmit: (e) => e.preventDefault() },
    field(t('search.text'), input('q', params.get('q') || '', { type: 'search', 'data-testid': 'search-text' })),
    select('kind', Object.keys(KINDS).map((k) => [k, t(`nav.${k}`)]), params.get('kind') || '',
      { empty: t('filter.all_kind'), 'aria-label': t('search.kind') }),
    dusunSelect(dusun, params.get('dusun') || '', 'dusun', { empty: t('filter.all_dusun'), 'aria-label': t('form.dusun') }),
    select('state', states, params.get('state') || '', { empty: t('filter.all_state'), 'aria-label': t('filter.state') }));
  const body = h('div');
  const match = (f) => ({ kind, rec }) => {
    if (f.kind && kind !== f.kind) return false;
    if (f.dusun && rec.row.dusun_id !== f.dusun) return false;
    if (f.state === 'pending' ? !rec.pending : f.state === 'conflict' ? !rec.row.has_conflict
      : f.state === 'rejected' ? !rec.refused : f.state && stateOf(rec) !== f.state) return false;
    if (f.q) {
      const text = Object.values(rec.row).filter((v) => typeof v === 'string').join(' ').toLowerCase();
      if (!text.includes(f.q.toLowerCase())) return false;
    }
    return true;
  };
  const draw = () => {
    const f = formValues(filter);
    const found = all.filter(match(f));
    replace(body, pagedList(found, ({ kind, rec }) => recordRow(kind, rec, {
      title: kind === 'musyawarah' ? `${label('musyawarah', rec.row.jenis)} · ${formatDate(rec.row.tanggal)}` : rec.row[KINDS[kind]],
      sub: [t(`nav.${kind}`), dusun.get(rec.row.dusun_id)].filter(Boolean).join(' · '),
      total: kind === 'musyawarah' ? null : scoreTotal(rec.row),
    })));
  };
  draw();
  replace(el, h('h1', {}, t('nav.cari')), filter, body);
}
