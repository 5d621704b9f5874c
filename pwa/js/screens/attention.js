// What needs her (one tap from the status bar and from home): each record the server refused, with
// why in her words and what she can do — fix it in its form and Simpan, send it again as it is, or
// discard it herself — and what is held because of it, with what it waits for. Nothing here is ever
// dropped without her say.

import { app } from '../app.js';
import * as db from '../db.js';
import { label, t } from '../i18n/index.js';
import { countsText, heldText, refusalText } from '../reasons.js';
import { ask, h, replace, toast } from '../ui.js';

const FORMS = new Set(['pengkajian', 'musyawarah', 'usulan']); // tables with a form to fix them in

// A record named by what she typed in it, cut short (a refused value may be very long).
export function titleOf(table, row = {}) {
  const text = {
    musyawarah: [label('musyawarah', row.jenis), row.tanggal, row.tempat].filter(Boolean).join(' · '),
    pengkajian: row.uraian, usulan: row.kegiatan, kehadiran: row.nama, komentar: row.isi,
  }[table] || '';
  return text.length > 80 ? `${text.slice(0, 79)}…` : text || t('form.untitled');
}

const tableOf = (key) => key.slice(0, key.indexOf('/'));

export async function attentionScreen(el) {
  const state = await db.outboxState();
  // What is held, by the refused record it waits for (at the end of its chain).
  const held = new Map();
  const add = (root, what) => {
    if (!held.has(root)) held.set(root, {});
    held.get(root)[what] = (held.get(root)[what] || 0) + 1;
  };
  for (const x of state.held) add(x.root, x.table);
  for (const p of state.heldPhotos) add(p.root, 'foto');
  const titles = new Map(state.refused.map((x) => [x.key, titleOf(x.table, x.rec?.row)]));
  replace(el,
    h('h1', {}, t('nav.perlu')),
    h('p', { class: 'muted' }, t('attention.intro')),
    state.refused.length || held.size ? null : h('p', { class: 'muted', 'data-testid': 'attention-none' }, t('attention.none')),
    state.refused.length ? h('h2', {}, t('attention.refused')) : null,
    state.refused.map((x) => refusedCard(x)),
    held.size ? h('h2', {}, t('attention.held')) : null,
    [...held].map(([root, counts]) => h('section', { class: 'card held', 'data-testid': 'held', 'data-root': root },
      h('p', { class: 'reason' }, heldText(tableOf(root))),
      titles.has(root) ? h('p', { class: 'muted' }, `${t(`kind.${tableOf(root)}`)}: `, titles.get(root)) : null,
      h('p', { 'data-testid': 'held-counts' }, countsText(counts)))));
}

function refusedCard(x) {
  const row = x.rec?.row || {};
  return h('section', { class: 'card refused', 'data-testid': 'refused', 'data-table': x.table, 'data-id': x.id },
    h('h2', {}, `${t(`kind.${x.table}`)}: `, titleOf(x.table, row)),
    x.rec?.deleted ? h('p', {}, t('attention.deleted')) : null,
    h('p', { class: 'error', 'data-testid': 'reason' }, refusalText(x.refusal)),
    h('div', { class: 'buttons' },
      FORMS.has(x.table) && !x.rec?.deleted
        ? h('a', { class: 'button primary', href: `#/${x.table}/${x.id}`, 'data-testid': 'fix' }, t('attention.fix')) : null,
      h('button', { type: 'button', 'data-testid': 'resend', onclick: async () => {
        await db.resendRefused(x.table, x.id);
        toast(t('attention.resent'));
        app.saved();
        app.refresh();
      } }, t('attention.resend')),
      h('button', { type: 'button', class: 'danger', 'data-testid': 'discard', onclick: () => discard(x) },
        t('attention.discard'))));
}

// Asks first, saying everything that goes with it; then discards it all in one transaction.
async function discard(x) {
  const plan = await db.discardRefused(x.table, x.id, true);
  const what = countsText({ ...plan.records, foto: plan.photos });
  const lines = [t(plan.whole ? 'attention.discard_whole' : 'attention.discard_changes'),
    what ? t('attention.discard_with', { what }) : null,
    plan.edits ? t('attention.discard_edits', { n: plan.edits }) : null].filter(Boolean);
  const choice = await ask(t('attention.discard_title'), lines,
    [{ label: t('attention.discard'), value: 'yes', danger: true }, { label: t('cancel'), value: 'no', primary: true }]);
  if (choice !== 'yes') return;
  await db.discardRefused(x.table, x.id);
  toast(t('attention.discarded'));
  app.refresh();
}
