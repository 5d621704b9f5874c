// Why something she typed is not on the server yet, in her words: one sentence built from the server's
// codes (error_code, and the field and its problem when one is to blame) and the field's label, never
// from the server's English reason, and never with an id in it. Pure: words come from the dictionary.

import { t } from './i18n/index.js';

const has = (key) => t(key) !== key;

// The field's name as the forms show it; a field with no label yet is "an entry", never its code.
export function fieldLabel(field) {
  return field && has(`field.${field}`) ? t(`field.${field}`) : t('refusal.some_field');
}

// A refusal ({code, field, problem}) as one sentence: "Tempat terlalu panjang".
export function refusalText(refusal) {
  const { code, field, problem } = refusal || {};
  if (field && has(`refusal.${code}.${field}`)) return t(`refusal.${code}.${field}`);
  if (field && code === 'invalid_fields') {
    return t(`refusal.problem.${has(`refusal.problem.${problem}`) ? problem : 'type'}`, { field: fieldLabel(field) });
  }
  if (field && has(`refusal.${code}`)) return t(`refusal.${code}`, { field: fieldLabel(field) });
  return has(`refusal.code.${code}`) ? t(`refusal.code.${code}`) : t('refusal.code.other');
}

// What a held record waits for, by the table of the refused record at the end of its chain:
// "Menunggu musyawarahnya diterima server".
export function heldText(table) {
  return has(`held.${table}`) ? t(`held.${table}`) : t('held.other');
}

// "10 baris daftar hadir, 2 usulan dan 1 foto" from {kehadiran: 10, usulan: 2, foto: 1}.
export function countsText(counts) {
  const parts = Object.entries(counts).filter(([, n]) => n > 0)
    .map(([table, n]) => t(has(`count.${table}`) ? `count.${table}` : 'count.other', { n }));
  if (parts.length < 2) return parts.join('');
  return t('count.and', { list: parts.slice(0, -1).join(', '), last: parts[parts.length - 1] });
}
