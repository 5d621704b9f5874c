// The UI's words: one dictionary per language (id.js, en.js), Bahasa Indonesia first. Only the
// chosen language is loaded.

export const LANGUAGES = { id: 'Bahasa Indonesia', en: 'English' };
const KEY = 'kader.lang';

let dict = {};
let fallback = null;
let lang = 'id';

export async function loadLanguage(wanted) {
  lang = wanted in LANGUAGES ? wanted : 'id';
  dict = (await import(`./${lang}.js`)).default;
  try { localStorage.setItem(KEY, lang); } catch { /* private mode */ }
  document.documentElement.lang = lang;
  return lang;
}

export function savedLanguage() {
  try { return localStorage.getItem(KEY) || 'id'; } catch { return 'id'; }
}

export const currentLanguage = () => lang;

// t('key', {n: 3}) → the text with {n} filled in. A missing key shows itself, so it gets noticed.
export function t(key, params) {
  let text = dict[key];
  if (text === undefined) {
    if (!fallback && lang !== 'id') import('./id.js').then((m) => { fallback = m.default; });
    text = fallback?.[key] ?? key;
  }
  if (params) text = text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? ''));
  return text;
}

// A label for a value of a closed vocabulary (jenis, unsur, sumber dana …), falling back to the value.
export const label = (group, value) => dict[`${group}.${value}`] ?? value ?? '';

export function formatTime(ms) {
  if (!ms) return t('status.never');
  return new Date(ms).toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB',
    { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

// A time of day to the second (when the next automatic sync is due).
export function formatClock(ms) {
  return new Date(ms).toLocaleTimeString(lang === 'id' ? 'id-ID' : 'en-GB',
    { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatNumber(n) {
  return n === null || n === undefined || n === '' ? '' : Number(n).toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB');
}
