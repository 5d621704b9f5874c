// Settings and safety nets: language, storage, export and import of unsent data, updates, log-out.
// Everything that could discard unsent data asks first and offers the export.

import { app } from '../app.js';
import * as db from '../db.js';
import { LANGUAGES, currentLanguage, formatTime, loadLanguage, t } from '../i18n/index.js';
import { VERSION } from '../shell.js';
import { checkForUpdate, hasWaitingVersion } from '../sw-bridge.js';
import { logout } from '../sync.js';
import { ask, download, field, fileButton, h, replace, select, toast } from '../ui.js';

async function exportFile() {
  const data = await db.exportUnsent();
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
  download(`kader-belum-terkirim-${data.user || 'hp'}-${stamp}.json`, JSON.stringify(data));
  toast(t('export.done', { n: data.mutations.length }));
  return data;
}

async function importFile(file) {
  try {
    const added = await db.importUnsent(JSON.parse(await file.text()));
    toast(t('import.done', { n: added }));
    app.saved();
  } catch (e) {
    toast(t(e.message === 'unreadable_schema' ? 'import.unreadable' : 'import.bad'));
  }
}

// Log-out wipes this phone's copy; unsent changes would be lost, so she is told and offered the export.
export async function confirmDiscard(reasonKey) {
  const [pending, photos] = await Promise.all([db.countOutbox(), db.pendingAttachments()]);
  if (!pending && !photos.length) return true;
  for (;;) {
    const choice = await ask(t('discard.title'), [t(reasonKey), t('discard.unsent', { n: pending, p: photos.length })], [
      { label: t('discard.export'), value: 'export', primary: true },
      { label: t('discard.anyway'), value: 'anyway', danger: true },
      { label: t('cancel'), value: 'cancel' },
    ]);
    if (choice === 'export') { await exportFile(); continue; }
    return choice === 'anyway';
  }
}

export async function settingsScreen(el) {
  const [pending, meta, persisted] = await Promise.all([
    db.countOutbox(), db.getMetas(['last_sync', 'user', 'client_id']), navigator.storage?.persisted?.() ?? false,
  ]);
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  const importButton = fileButton(t('import.button'), { accept: 'application/json,.json', 'data-testid': 'import-input',
    onchange: (e) => e.target.files[0] && importFile(e.target.files[0]) });
  replace(el,
    h('h1', {}, t('nav.pengaturan')),
    h('section', { class: 'card' }, h('h2', {}, t('settings.language')),
      field(t('settings.language'), select('lang', Object.entries(LANGUAGES), currentLanguage(), { empty: false,
        'data-testid': 'language', onchange: async (e) => { await loadLanguage(e.target.value); location.reload(); } }))),
    h('section', { class: 'card' }, h('h2', {}, t('settings.storage')),
      h('p', { 'data-testid': 'storage' }, persisted ? t('storage.granted') : t('storage.not_granted')),
      estimate ? h('p', { class: 'muted' }, t('storage.used', { mb: (estimate.usage / 1048576).toFixed(1) })) : null,
      persisted ? null : h('button', { type: 'button', onclick: async () => {
        const ok = await navigator.storage?.persist?.();
        await db.setMeta('persisted', !!ok);
        toast(ok ? t('storage.granted') : t('storage.refused'));
        app.refresh();
      } }, t('storage.ask'))),
    h('section', { class: 'card' }, h('h2', {}, t('export.title')),
      h('p', {}, t('export.intro', { n: pending })),
      h('button', { type: 'button', class: 'primary', 'data-testid': 'export', onclick: exportFile }, t('export.button')),
      h('div', { class: 'buttons' }, importButton), h('p', { class: 'muted small' }, t('import.hint'))),
    h('section', { class: 'card' }, h('h2', {}, t('settings.app')),
      h('p', { 'data-testid': 'version' }, t('settings.version', { v: VERSION })),
      h('p', { class: 'muted' }, t('status.last', { when: formatTime(meta.last_sync) })),
      h('button', { type: 'button', onclick: async () => {
        await checkForUpdate();
        toast(hasWaitingVersion() ? t('update.available') : t('update.none'));
      } }, t('update.check'))),
    h('section', { class: 'card' }, h('h2', {}, t('settings.account')),
      h('p', {}, t('settings.user', { user: meta.user?.username || '', desa: meta.user?.wilayah_name || '' })),
      h('button', { type: 'button', class: 'danger', 'data-testid': 'logout', onclick: async () => {
        if (!(await confirmDiscard('discard.logout'))) return;
        await logout();
        await db.wipe();
        try { localStorage.removeItem('kader.session'); } catch { /* private mode */ }
        app.user = null;
        app.go('');
        app.refresh();
      } }, t('settings.logout'))));
}
