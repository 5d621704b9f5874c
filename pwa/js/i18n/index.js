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

const locale = () => (lang === 'id' ? 'id-ID' : 'en-GB');

// A calendar date as people write it ("8 Des 2026"; `long`: "Selasa, 8 Desember 2026"), never the
// ISO text the wire carries. 'YYYY-MM-DD' is read as a local date: as UTC it would be the day before
// west of Greenwich.
export function formatDate(iso, long = false) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || '');
  if (!m) return '';
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return date.toLocaleDateString(locale(), long ? { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }
    : { day: 'numeric', month: 'short', year: 'numeric' });
}

// A wire time 'HH:MM[:SS]' as the clock reads in her language ("19.00" in Indonesian).
export function formatHour(hhmm) {
  const m = /^(\d{2}):(\d{2})/.exec(hhmm || '');
  if (!m) return '';
  return new Date(2000, 0, 1, Number(m[1]), Number(m[2]))
    .toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
}

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
