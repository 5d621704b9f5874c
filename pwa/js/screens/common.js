// Pieces every record screen shares: review state and the admin's note, list rows, ranking, the
// dusun picker, and working out which fields a form changed.

import * as db from '../db.js';
import { formatDate, formatHour, formatNumber, formatTime, label, t } from '../i18n/index.js';
import { canonical, coerce, scoreTotal } from '../protocol.js';
import { heldText, refusalText } from '../reasons.js';
import { badge, h, select } from '../ui.js';

export const PAGE = 50; // rows drawn at once: a list of 10,000 must still open at once on a cheap phone

// Where a record stands: 'draf' until the server has it, then the review state it sent.
export const stateOf = (rec) => (rec.version > 0 ? rec.row.review_state || 'diajukan' : 'draf');

export async function dusunMap() {
  return new Map((await db.listRecords('dusun')).map((d) => [d.id, d.row.nama]));
}

export function dusunSelect(dusun, value, name = 'dusun_id', options = {}) {
  return select(name, [...dusun].sort((a, b) => a[1].localeCompare(b[1])), value, options);
}

// A musyawarah named so that two on one day differ: date, time, kind, place and dusun.
export function musyawarahLabel(row, dusun) {
  const when = [formatDate(row.tanggal), formatHour(row.jam_mulai)].filter(Boolean).join(' ');
  return [when, label('musyawarah', row.jenis), row.tempat, dusun.get(row.dusun_id)].filter(Boolean).join(' · ');
}

// Newest meeting first; the same day by its start time.
export const byMeetingTime = (a, b) => String(b.row.tanggal || '').localeCompare(String(a.row.tanggal || ''))
  || String(b.row.jam_mulai || '').localeCompare(String(a.row.jam_mulai || ''));

// Peringkat, by the one rule the server's exports use (sync/ranking.py; docs/sync-protocol.md,
// "Peringkat"; keep the two in step). Computed when shown, never stored or sent. Ranked together: the
// records given (the phone holds one desa), apart per `groupBy` field (pengkajian: per jenis);
// records the review rejected (ditolak) are neither ranked nor counted (deleted ones are not listed);
// competition ranking by total score, highest first: equal totals share a rank and the next rank
// counts them all (1, 2, 2, 4); a record with no score is unranked. Returns [{rec, total, rank}],
// ranked ones first by rank, then the unranked by total.
export function rankByScore(records, groupBy = null) {
  const scored = records.map((r) => ({ rec: r, total: scoreTotal(r.row), rank: null }));
  const groups = new Map();
  for (const s of scored) {
    if (s.total === null || s.rec.row.review_state === 'ditolak') continue;
    const key = groupBy ? s.rec.row[groupBy] ?? '' : '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  for (const members of groups.values()) {
    members.sort((a, b) => b.total - a.total);
    members.forEach((s, i) => { s.rank = i > 0 && s.total === members[i - 1].total ? members[i - 1].rank : i + 1; });
  }
  return scored.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || (b.total ?? -1) - (a.total ?? -1));
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
  || ((a === '' || a === null || a === undefined) && (b === '' || b === null || b === undefined));

// The fields of `values` (raw form input) that differ from `row`, as wire values.
export function changedFields(table, values, row) {
  const changes = {};
  for (const [name, raw] of Object.entries(values)) {
    const value = coerce(table, name, raw);
    if (!same(value, canonical(table, name, row[name]))) changes[name] = value;
  }
  return changes;
}

// One line of a list: what it is, where, its score and rank, its review state and sync marks.
export function recordRow(kind, rec, { title, sub, rank, total }) {
  return h('li', { class: 'row', 'data-id': rec.id },
    h('a', { href: `#/${kind}/${rec.id}` },
      h('div', { class: 'row-top' },
        rank ? h('span', { class: 'rank', title: t('rank.title') }, `#${rank}`) : null,
        h('strong', { class: 'title' }, title || t('form.untitled'))),
      h('div', { class: 'row-sub' }, sub),
      h('div', { class: 'row-marks' },
        badge(stateOf(rec)),
        total !== null && total !== undefined ? h('span', { class: 'mark' }, t('score.total_short', { n: total })) : null,
        rec.pending ? h('span', { class: 'mark pending' }, t('mark.unsent')) : null,
        rec.row.has_conflict ? h('span', { class: 'mark conflict' }, t('mark.conflict')) : null,
        rec.refused ? h('span', { class: 'mark rejected' }, t('mark.rejected')) : null)));
}

// A list that draws PAGE rows, with a button for more.
export function pagedList(items, draw) {
  const ul = h('ul', { class: 'list', 'data-testid': 'list' });
  let shown = 0;
  const more = h('button', { type: 'button', class: 'more', onclick: () => next() }, t('list.more'));
  const next = () => {
    const slice = items.slice(shown, shown + PAGE);
    ul.append(...slice.map(draw));
    shown += slice.length;
    more.hidden = shown >= items.length;
  };
  next();
  return h('div', {}, items.length ? ul : h('p', { class: 'muted' }, t('list.empty')), more,
    h('p', { class: 'muted small' }, t('list.count', { n: items.length })));
}

// The review service keeps each note as a comment "[state] note" (server/reviews/service.py), so the
// trail of notes survives later reviews. Shown in words; the newest one is the note in the box above
// and is not repeated below it.
const REVIEW_COMMENT = /^\[(diajukan|diverifikasi|perlu_perbaikan|ditolak)\] ([\s\S]*)$/;

// The review state, the admin's note and comments, and what the phone still owes the server.
export async function reviewBox(table, rec) {
  if (!rec) return null;
  const state = stateOf(rec);
  const note = rec.row.review_note;
  const held = (await db.outboxState()).held.find((x) => x.table === table && x.id === rec.id);
  const refused = rec.refused ? refusalText(rec.refused) : null;
  const comments = (await db.listRecords('komentar'))
    .filter((c) => c.row.record_id === rec.id && c.row.record_table === table)
    .sort((a, b) => String(a.row.created_at).localeCompare(String(b.row.created_at)))
    .map((c) => {
      const [, reviewed, text] = REVIEW_COMMENT.exec(c.row.isi || '') || [];
      return { at: c.row.created_at, reviewed, text: reviewed ? text : c.row.isi };
    });
  const lastReview = [...comments].reverse().find((c) => c.reviewed);
  const shown = comments.filter((c) => !(c === lastReview && c.text === note));
  return h('section', { class: `review state-${state}`, 'data-testid': 'review',
    // the form marks this field too (app.js), where she fixes it
    'data-refused-field': rec.refused?.field ?? null, 'data-refused-text': refused },
    h('p', {}, t('review.state'), ' ', badge(state)),
    note ? h('p', { class: 'note', 'data-testid': 'review-note' }, h('strong', {}, t('review.note')), ' ', note) : null,
    state === 'perlu_perbaikan' ? h('p', { class: 'hint' }, t('review.fix_hint')) : null,
    state === 'diverifikasi' ? h('p', { class: 'hint' }, t('review.verified_hint')) : null,
    rec.pending ? h('p', { class: 'hint pending' }, t('review.pending', { n: rec.pending })) : null,
    rec.row.has_conflict ? h('p', {}, h('a', { href: '#/konflik' }, t('review.conflict'))) : null,
    refused ? h('p', { class: 'error', 'data-testid': 'refused-reason' }, t('review.rejected', { reason: refused }), ' ',
      h('a', { href: '#/perlu' }, t('nav.perlu'))) : null,
    held ? h('p', { class: 'hint', 'data-testid': 'held-reason' }, heldText(held.root.slice(0, held.root.indexOf('/'))), ' ',
      h('a', { href: '#/perlu' }, t('nav.perlu'))) : null,
    shown.length ? h('div', { class: 'comments' }, h('h3', {}, t('review.comments')),
      shown.map((c) => h('p', { class: 'comment', 'data-testid': 'comment' }, h('small', {}, formatTime(Date.parse(c.at))), ' ',
        c.reviewed ? h('strong', {}, t('review.comment_state', { state: label('state', c.reviewed) })) : null,
        c.reviewed ? ' ' : null, c.text)))
      : null);
}

export const money = (n) => (n === null || n === undefined || n === '' ? '' : `Rp ${formatNumber(n)}`);

export const bidangName = (bidang, code) => {
  const b = bidang.find((x) => x.code === code);
  return b ? `${b.code} ${b.nama}` : code || '';
};

export { label };
