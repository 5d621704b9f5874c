// Musyawarah: the meeting, its decisions and photos of the signed attendance list, and a daftar hadir
// fast enough to type 40 names: type a name, tap P or L, the line is saved and the cursor is back.
// Names are optional: a tap with the box empty counts one person (a tally when there is no time for
// names). Each attendance line is its own record, so lines added on two phones merge instead of
// conflicting.

import { app } from '../app.js';
import * as db from '../db.js';
import { formatDate, label, t } from '../i18n/index.js';
import { resizePhoto } from '../photo.js';
import { JENIS_MUSYAWARAH, UNSUR, uuidv7, wireTime } from '../protocol.js';
import { downloadAttachment } from '../sync.js';
import { ask, field, fileButton, formValues, h, input, markDirty, replace, select, textarea, toast } from '../ui.js';
import { byMeetingTime, dusunMap, dusunSelect, pagedList, recordRow, reviewBox } from './common.js';
import { afterSave, formShell, saveBar, saveForm } from './records.js';

export async function musyawarahScreen(el, [id]) {
  if (id) return musyawarahForm(el, id);
  const [records, dusun] = await Promise.all([db.listRecords('musyawarah'), dusunMap()]);
  records.sort(byMeetingTime);
  replace(el, h('div', { class: 'head' }, h('h1', {}, t('nav.musyawarah')),
    h('a', { class: 'button primary', href: '#/musyawarah/baru', 'data-testid': 'new' }, t('form.new'))),
  pagedList(records, (rec) => recordRow('musyawarah', rec, {
    title: `${label('musyawarah', rec.row.jenis)} · ${formatDate(rec.row.tanggal)}`,
    sub: [rec.row.tempat, dusun.get(rec.row.dusun_id)].filter(Boolean).join(' · '),
  })));
}

const today = () => new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);

async function musyawarahForm(el, id) {
  const isNew = id === 'baru';
  const recId = isNew ? uuidv7() : id;
  const [rec, dusun] = await Promise.all([isNew ? null : db.getRecord('musyawarah', id), dusunMap()]);
  if (!isNew && !rec) { replace(el, h('p', {}, t('form.not_found'))); return; }
  const row = rec?.row || { jenis: 'musyawarah_dusun', tanggal: today() };
  const dayText = h('span', { 'data-testid': 'tanggal-text' }, formatDate(row.tanggal, true)); // "Selasa, 8 Desember 2026"
  const photos = [...(row.foto || [])];
  const fresh = []; // photos taken now; on a new musyawarah they are stored with it when she saves
  const gallery = h('div', { class: 'gallery', 'data-testid': 'photos' });
  const image = (sha, photo) => h('figure', { class: 'thumb' },
    h('img', { src: URL.createObjectURL(photo.blob), alt: t('photo.alt'), 'data-sha': sha,
      title: t('photo.size', { kb: Math.round(photo.size / 1024) }) }),
    isNew ? h('figcaption', { class: 'unsaved' }, t('photo.unsaved')) : null);
  const drawGallery = async () => {
    const items = [];
    for (const sha of photos) {
      const local = fresh.find((p) => p.sha256 === sha) || await db.getAttachment(sha);
      if (local) { items.push(image(sha, local)); continue; }
      // Taken on another phone: say so, and fetch it (once; then it is kept for offline use).
      const slot = h('span', { class: 'muted', 'data-sha': sha }, t('photo.on_server'));
      items.push(slot);
      downloadAttachment(sha).then((photo) => { if (photo && slot.isConnected) slot.replaceWith(image(sha, photo)); });
    }
    replace(gallery, items.length ? items : h('span', { class: 'muted' }, t('photo.none')));
  };
  // On a musyawarah already saved the photo is kept at once, like each attendance line on the same
  // screen: the camera app may push the browser out of a cheap phone's memory, and nothing she did
  // should hang on a later Simpan. A new musyawarah does not exist yet: its photos wait for Simpan,
  // and the screen says so under each one.
  const addPhotos = async (e) => {
    const taken = [];
    for (const file of e.target.files) {
      try {
        const p = await resizePhoto(file);
        if (!photos.includes(p.sha256)) { photos.push(p.sha256); fresh.push(p); taken.push(p); }
      } catch (err) { console.error(err); toast(t('photo.failed')); }
    }
    e.target.value = '';
    if (taken.length && isNew) markDirty();
    if (taken.length && !isNew) {
      await db.saveRecord('musyawarah', recId, { foto: [...photos] }, taken);
      row.foto = [...photos]; // Simpan compares with this: the photos are not sent twice
      app.saved();
      toast(t('photo.kept'));
    }
    drawGallery();
  };
  // Kept at once or marked dirty above: the form's own input/change handlers must not see the file input.
  const onchange = (e) => { e.stopPropagation(); addPhotos(e); };
  const oninput = (e) => e.stopPropagation();
  const photoButtons = h('div', { class: 'photo-buttons' },
    fileButton(t('photo.take'), { accept: 'image/*', capture: 'environment', 'data-testid': 'photo-input', onchange,
      oninput }, 'big photo-take'),
    fileButton(t('photo.pick'), { accept: 'image/*', multiple: true, 'data-testid': 'photo-pick', onchange, oninput },
      'photo-pick'));
  const form = formShell(async (e) => {
    e.preventDefault();
    const values = formValues(form);
    const extra = JSON.stringify(photos) !== JSON.stringify(row.foto || []) ? { foto: photos } : {};
    afterSave(await saveForm(form, 'musyawarah', recId, rec, values, extra, fresh), isNew ? `musyawarah/${recId}` : undefined);
  },
  field(t('form.jenis'), select('jenis', JENIS_MUSYAWARAH.map((j) => [j, label('musyawarah', j)]), row.jenis, { empty: false })),
  field(t('musyawarah.kelompok'), input('kelompok', row.kelompok, { maxlength: 80 }), t('musyawarah.kelompok_hint')),
  field(t('musyawarah.tanggal'), input('tanggal', row.tanggal, { type: 'date', required: true,
    oninput: (e) => replace(dayText, formatDate(e.target.value, true)) }), dayText),
  h('div', { class: 'pair' },
    field(t('musyawarah.mulai'), input('jam_mulai', wireTime(row.jam_mulai), { type: 'time' })),
    field(t('musyawarah.selesai'), input('jam_selesai', wireTime(row.jam_selesai), { type: 'time' }))),
  field(t('musyawarah.tempat'), input('tempat', row.tempat, { maxlength: 200 })),
  field(t('form.dusun'), dusunSelect(dusun, row.dusun_id)),
  h('div', { class: 'pair' },
    field(t('musyawarah.pimpinan'), input('pimpinan', row.pimpinan, { maxlength: 120 })),
    field(t('musyawarah.unsur'), select('pimpinan_unsur', UNSUR.map((u) => [u, label('unsur', u)]), row.pimpinan_unsur))),
  field(t('musyawarah.notulis'), input('notulis', row.notulis, { maxlength: 120 })),
  field(t('musyawarah.agenda'), textarea('agenda', row.agenda)),
  field(t('musyawarah.notulen'), textarea('notulen', row.notulen, { rows: 5 })),
  field(t('musyawarah.keputusan'), textarea('keputusan', (row.keputusan || []).join('\n'), { rows: 4 }), t('musyawarah.keputusan_hint')),
  h('h2', {}, t('photo.title')),
  gallery,
  photoButtons,
  h('p', { class: 'muted small', 'data-testid': 'photo-hint' }, t(isNew ? 'photo.hint_new' : 'photo.hint')),
  saveBar());
  drawGallery();
  replace(el, h('h1', {}, isNew ? t('musyawarah.new') : t('musyawarah.edit')), await reviewBox('musyawarah', rec),
    isNew ? null : await attendance(recId, dusun), form);
}

// ---- daftar hadir -------------------------------------------------------------------------------

let sticky = { unsur: 'lainnya', dusun_id: '' }; // kept between lines: most of a meeting shares them

async function attendance(musyawarahId, dusun) {
  const lines = (await db.listRecords('kehadiran')).filter((k) => k.row.musyawarah_id === musyawarahId)
    .sort((a, b) => a.id.localeCompare(b.id)); // UUID v7 ids sort by the time the line was typed
  const totals = h('p', { class: 'totals', 'data-testid': 'totals', 'aria-live': 'polite' });
  // Newest first, right under the entry box, so she sees what she just typed; numbers count down.
  const list = h('ol', { class: 'attendance', reversed: true, 'data-testid': 'attendance' });
  const drawTotals = () => {
    const p = lines.filter((l) => l.row.jenis_kelamin === 'P').length;
    const unnamed = lines.filter((l) => !l.row.nama).length;
    replace(totals, t('hadir.totals', { p, l: lines.length - p, n: lines.length }),
      unnamed ? ` ${t('hadir.unnamed_count', { n: unnamed })}` : '');
  };
  const who = (line) => line.row.nama || t('hadir.unnamed');
  const lineEl = (line) => h('li', {},
    h('span', { class: line.row.nama ? 'name' : 'name unnamed' }, who(line)), ' ',
    h('span', { class: `sex sex-${line.row.jenis_kelamin}` }, line.row.jenis_kelamin), ' ',
    h('small', {}, [label('unsur', line.row.unsur), dusun.get(line.row.dusun_id)].filter(Boolean).join(' · ')),
    h('button', { type: 'button', class: 'remove', 'aria-label': t('hadir.remove', { nama: who(line) }), onclick: async (e) => {
      const ok = await ask(t('hadir.remove_title'), t('hadir.remove', { nama: who(line) }),
        [{ label: t('hadir.remove_yes'), value: 'yes', danger: true }, { label: t('cancel'), value: 'no' }]);
      if (ok !== 'yes') return;
      await db.deleteRecord('kehadiran', line.id);
      lines.splice(lines.indexOf(line), 1);
      e.target.closest('li').remove();
      drawTotals();
      app.saved();
    } }, '×'));
  list.append(...lines.map(lineEl).reverse());
  drawTotals();
  const name = input('nama', '', { maxlength: 120, placeholder: t('hadir.name'), 'aria-label': t('hadir.name'),
    enterkeyhint: 'done', 'data-testid': 'hadir-nama' });
  const error = h('p', { class: 'error', hidden: true });
  const add = async (sex) => {
    if (!sex) return;
    const nama = name.value.trim(); // may be empty: the line is then counted without a name
    error.hidden = true;
    const values = formValues(entry);
    sticky = { unsur: values.unsur || 'lainnya', dusun_id: values.dusun_id || '' };
    const id = uuidv7();
    const changes = { musyawarah_id: musyawarahId, nama, jenis_kelamin: sex, unsur: sticky.unsur, dusun_id: sticky.dusun_id || null };
    await db.saveRecord('kehadiran', id, changes);
    const line = { id, row: { id, ...changes }, localAt: Date.now() };
    lines.push(line);
    list.prepend(lineEl(line));
    drawTotals();
    name.value = '';
    name.focus();
    app.saved();
  };
  const entry = h('form', { class: 'hadir-entry', onsubmit: (e) => { e.preventDefault(); add(e.submitter?.value || null); } },
    h('div', { class: 'pair' },
      field(t('hadir.unsur'), select('unsur', UNSUR.map((u) => [u, label('unsur', u)]), sticky.unsur, { empty: false })),
      field(t('hadir.asal'), dusunSelect(dusun, sticky.dusun_id))),
    name,
    h('div', { class: 'sex-buttons' },
      h('button', { type: 'submit', value: 'P', class: 'big p', 'data-testid': 'add-p' }, t('hadir.add_p')),
      h('button', { type: 'submit', value: 'L', class: 'big l', 'data-testid': 'add-l' }, t('hadir.add_l'))),
    h('p', { class: 'muted small' }, t('hadir.hint')),
    error);
  // Enter without a tap on P or L: ask which.
  name.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); if (name.value.trim()) { error.hidden = false; replace(error, t('hadir.need_sex')); } }
  });
  return h('section', { class: 'hadir' }, h('h2', {}, t('hadir.title')), totals, entry, list);
}
