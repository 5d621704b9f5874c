// DOM helpers shared by every screen. Text always goes in as text nodes (textContent), never as
// HTML, so whatever anybody typed — `<script>`, `<img onerror>` — stays inert.

import { t, label } from './i18n/index.js';

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'required', 'multiple', 'hidden']);

// h('button', {class: 'big', onclick: fn}, 'Simpan') → an element; children may be nodes, strings,
// numbers, arrays, or null/false (skipped).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// ---- form parts ---------------------------------------------------------------------------------

let fieldSeq = 0;

// A labelled control. `control` is an element; `hint` a short text under it.
export function field(text, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, text), control, hint && h('small', {}, hint));
}

export const input = (name, value, attrs = {}) =>
  h('input', { name, value: value ?? '', type: 'text', autocomplete: 'off', ...attrs });

export const textarea = (name, value, attrs = {}) => h('textarea', { name, rows: 3, ...attrs }, value ?? '');

// options: [[value, text], …]; `empty` adds a first "— pilih —" choice with value '' (a text given
// instead names that choice: a filter's "Semua dusun" says what the select filters).
export function select(name, options, value, { empty = true, ...attrs } = {}) {
  return h('select', { name, ...attrs },
    empty && h('option', { value: '' }, typeof empty === 'string' ? empty : t('form.choose')),
    options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text)));
}

// A big button that opens the camera or the file picker: a label around a hidden file input, instead
// of the browser's own control and its English "Choose File / No file chosen".
export function fileButton(text, attrs, cls = '') {
  return h('label', { class: `button ${cls}` }, h('span', {}, text),
    h('input', { type: 'file', class: 'visually-hidden', ...attrs }));
}

// A row of big buttons acting as radio choices (one-handed, no tiny dropdown).
export function choices(name, options, value, legend) {
  return h('fieldset', { class: 'choices' }, h('legend', {}, legend),
    options.map(([v, text]) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name, value: v, checked: String(v) === String(value ?? '') }), h('span', {}, text))));
}

// Five criteria, each 1–5, shown as big buttons, with the total updated as she taps.
export function scoreInputs(fields, row, onchange) {
  return h('div', { class: 'scores' }, fields.map((f) =>
    h('fieldset', { class: 'choices score' }, h('legend', {}, t(`score.${f}`)),
      [1, 2, 3, 4, 5].map((n) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: f, value: n, checked: row[f] === n, onchange }), h('span', {}, String(n)))))));
}

// ---- feedback -----------------------------------------------------------------------------------

export function badge(state) {
  return h('span', { class: `badge state-${state || 'draf'}` }, label('state', state || 'draf'));
}

export function toast(text) {
  const box = document.getElementById('toast');
  if (!box) return;
  const el = h('div', { class: 'toast', role: 'status' }, text);
  box.append(el);
  setTimeout(() => el.remove(), 4000);
}

// A dialog with big buttons; resolves to the value of the button pressed. Used for every warning
// before something that could discard unsent data.
export function ask(title, message, buttons) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'ask', 'aria-labelledby': 'ask-title' });
    const done = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    append(dialog, [
      h('h2', { id: 'ask-title' }, title),
      [].concat(message).map((m) => h('p', {}, m)),
      h('div', { class: 'buttons' }, buttons.map((b) =>
        h('button', { type: 'button', class: b.primary ? 'primary' : b.danger ? 'danger' : '', onclick: () => done(b.value) },
          b.label))),
    ]);
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(null); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// ---- unsaved form guard -------------------------------------------------------------------------

// The form with unsaved input. Tied to the element, not a flag: a form that has left the screen
// (saved, then replaced) can no longer hold anything back, whatever late events it fired.
let dirtyForm = null;
export const markDirty = (e) => {
  dirtyForm = e?.currentTarget instanceof HTMLFormElement ? e.currentTarget : document.querySelector('#main form.record-form');
};
export const markClean = () => { dirtyForm = null; };
export const isDirty = () => !!dirtyForm?.isConnected;

// Reads a form into {name: raw string or array}; radio groups give the checked value.
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'radio') { if (el.checked) out[el.name] = el.value; else if (!(el.name in out)) out[el.name] = ''; }
    else if (el.type !== 'file' && el.type !== 'button' && el.type !== 'submit') out[el.name] = el.value;
  }
  return out;
}

export function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
