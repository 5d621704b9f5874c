// Conflicts: someone else changed the same field while she was offline. For each field her value
// and the server's stand side by side; she keeps one or types a new one. Nothing is decided for her.

import { app } from '../app.js';
import * as db from '../db.js';
import { formatTime, label, t } from '../i18n/index.js';
import { coerce } from '../protocol.js';
import { resolveConflict, runSync } from '../sync.js';
import { ask, formValues, h, input, replace, toast } from '../ui.js';

const TITLE = { pengkajian: 'uraian', usulan: 'kegiatan', musyawarah: 'tempat', kehadiran: 'nama' };

const show = (v) => (v === null || v === undefined || v === '' ? t('conflict.empty')
  : Array.isArray(v) ? v.join(', ') : String(v));

export async function conflictsScreen(el) {
  const open = (await db.listRecords('conflicts')).filter((c) => !c.row.resolved_at)
    .sort((a, b) => String(a.row.created_at).localeCompare(String(b.row.created_at)));
  const cards = [];
  for (const c of open) cards.push(await conflictCard(c.row));
  replace(el, h('h1', {}, t('nav.konflik')), h('p', { class: 'muted' }, t('conflict.intro')),
    cards.length ? cards : h('p', { class: 'muted', 'data-testid': 'no-conflicts' }, t('conflict.none')));
}

async function conflictCard(c) {
  const rec = await db.getRecord(c.table_name, c.record_id);
  const current = rec?.server || rec?.row || {}; // the server's row (kept apart while she has changes)
  const title = rec?.row?.[TITLE[c.table_name]] || c.record_id;
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
      Object.entries(c.field_values || {}).map(([f, v]) => h('p', {}, h('strong', {}, label('field', f)), ': ', show(v.mine))),
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
      h('span', { class: 'caption' }, caption), value !== undefined ? h('span', { class: 'value' }, show(value)) : null, extra);
    return h('fieldset', { class: 'conflict-field', 'data-field': f }, h('legend', {}, label('field', f)),
      h('div', { class: 'sides' },
        option('mine', t('conflict.mine'), v.mine),
        option('theirs', t('conflict.theirs'), theirs)),
      option('edited', t('conflict.edited'), undefined,
        input(`edit:${f}`, Array.isArray(v.mine) ? v.mine.join('\n') : v.mine ?? '', { 'aria-label': t('conflict.edited'),
          // typing a new value means choosing it
          oninput: (e) => { e.target.closest('label').querySelector('input[type=radio]').checked = true; } })));
  }),
  h('button', { type: 'submit', class: 'primary big' }, t('conflict.save')));
  return form;
}
