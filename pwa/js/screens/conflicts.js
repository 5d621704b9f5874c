// Conflicts: someone else changed the same field while she was offline. For each field her value
// and the server's stand side by side; she keeps one or types a new one. Nothing is decided for her.

import { app } from '../app.js';
import * as db from '../db.js';
import { formatDate, formatHour, formatTime, label, t } from '../i18n/index.js';
import { coerce } from '../protocol.js';
import { resolveConflict, runSync } from '../sync.js';
import { ask, formValues, h, input, replace, toast } from '../ui.js';
import { dusunMap, musyawarahLabel } from './common.js';

const TITLE = { pengkajian: 'uraian', usulan: 'kegiatan', musyawarah: 'tempat', kehadiran: 'nama' };

// Closed lists shown by their labels (i18n groups), whatever table they are in.
const GROUPS = { unsur: 'unsur', pimpinan_unsur: 'unsur', sumber_dana: 'dana', pola_pelaksanaan: 'pola',
  sdgs_desa: 'sdgs' };

// A value in words: dates and times as people write them, records by their names, codes by their
// labels; never a UUID or a code. `names` maps record ids to names.
function show(table, f, v, names) {
  if (v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)) return t('conflict.empty');
  if (f === 'foto') return t('conflict.photos', { n: v.length });
  if (Array.isArray(v)) return v.join(', ');
  if (f === 'tanggal') return formatDate(v, true);
  if (f.startsWith('jam_')) return formatHour(v);
  if (f.endsWith('_id')) return names.get(v) || t('conflict.unknown_record');
  if (f === 'jenis') return label(table === 'musyawarah' ? 'musyawarah' : 'jenis', v);
  if (f in GROUPS) return label(GROUPS[f], v);
  return String(v);
}

// How each field is typed when she writes a new value: the control the form uses.
const inputType = (f) => (f === 'tanggal' ? 'date' : f.startsWith('jam_') ? 'time' : 'text');

export async function conflictsScreen(el) {
  const open = (await db.listRecords('conflicts')).filter((c) => !c.row.resolved_at)
    .sort((a, b) => String(a.row.created_at).localeCompare(String(b.row.created_at)));
  const [dusun, musyawarah, pengkajian] = await Promise.all([
    dusunMap(), db.listRecords('musyawarah'), db.listRecords('pengkajian')]);
  const names = new Map([...dusun,
    ...musyawarah.map((m) => [m.id, musyawarahLabel(m.row, dusun)]),
    ...pengkajian.map((p) => [p.id, String(p.row.uraian || '').slice(0, 80)])]);
  const cards = [];
  for (const c of open) cards.push(await conflictCard(c.row, names));
  replace(el, h('h1', {}, t('nav.konflik')), h('p', { class: 'muted' }, t('conflict.intro')),
    cards.length ? cards : h('p', { class: 'muted', 'data-testid': 'no-conflicts' }, t('conflict.none')));
}

async function conflictCard(c, names) {
  const rec = await db.getRecord(c.table_name, c.record_id);
  const current = rec?.server || rec?.row || {}; // the server's row (kept apart while she has changes)
  const title = (c.table_name === 'musyawarah' ? names.get(c.record_id) : rec?.row?.[TITLE[c.table_name]])
    || t(c.table_name === 'kehadiran' ? 'hadir.unnamed' : 'form.untitled');
  const head = [h('h2', {}, `${t(`nav.${c.table_name}`)}: `, title),
    h('p', { class: 'muted' }, t('conflict.when', { when: formatTime(Date.parse(c.created_at)) }))];
  const submit = async (body) => {
    if (!navigator.onLine) { toast(t('conflict.need_signal')); return; }
    try {
      await resolveConflict(c.id, body);
      toast(t('conflict.resolved'));
      runSync('resolved');
      app.refresh();
    } catch (e) {
      if (e.code === 'already_resolved') { toast(t('conflict.already')); runSync('resolved'); return; }
      toast(t(`sync.error.${e.code}`) === `sync.error.${e.code}` ? t('sync.error.unknown', { code: e.code }) : t(`sync.error.${e.code}`));
    }
  };
  if (c.kind !== 'field') {
    const keep = c.kind === 'edit_deleted' ? 'conflict.keep_edit' : 'conflict.keep_record';
    return h('section', { class: 'card conflict', 'data-testid': 'conflict' }, head,
      h('p', {}, t(`conflict.${c.kind}`)),
      Object.entries(c.field_values || {}).map(([f, v]) => h('p', {}, h('strong', {}, label('field', f)), ': ',
        show(c.table_name, f, v.mine, names))),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'primary', onclick: () => submit({ action: 'keep' }) }, t(keep)),
        h('button', { type: 'button', class: 'danger', onclick: async () => {
          const ok = await ask(t('conflict.delete_title'), t('conflict.delete_body'),
            [{ label: t('conflict.delete'), value: 'yes', danger: true }, { label: t('cancel'), value: 'no' }]);
          if (ok === 'yes') submit({ action: 'delete' });
        } }, t('conflict.delete'))));
  }
  const form = h('form', { class: 'card conflict', 'data-testid': 'conflict', onsubmit: (e) => {
    e.preventDefault();
    const values = formValues(form);
    const fields = {};
    for (const f of Object.keys(c.field_values)) {
      const pick = values[`pick:${f}`];
      if (!pick) { toast(t('conflict.choose_all')); return; }
      fields[f] = pick === 'edited' ? { pick, value: coerce(c.table_name, f, values[`edit:${f}`]) } : { pick };
    }
    submit({ fields });
  } }, head,
  Object.entries(c.field_values).map(([f, v]) => {
    const theirs = f in current ? current[f] : v.theirs;
    const option = (pick, caption, value, extra) => h('label', { class: 'side' },
      h('input', { type: 'radio', name: `pick:${f}`, value: pick }),
      h('span', { class: 'caption' }, caption),
      value !== undefined ? h('span', { class: 'value' }, show(c.table_name, f, value, names)) : null, extra);
    return h('fieldset', { class: 'conflict-field', 'data-field': f }, h('legend', {}, label('field', f)),
      h('div', { class: 'sides' },
        option('mine', t('conflict.mine'), v.mine),
        option('theirs', t('conflict.theirs'), theirs)),
      option('edited', t('conflict.edited'), undefined,
        input(`edit:${f}`, Array.isArray(v.mine) ? v.mine.join('\n') : v.mine ?? '', { 'aria-label': t('conflict.edited'),
          type: inputType(f),
          // typing a new value means choosing it
          oninput: (e) => { e.target.closest('label').querySelector('input[type=radio]').checked = true; } })));
  }),
  h('button', { type: 'submit', class: 'primary big' }, t('conflict.save')));
  return form;
}
