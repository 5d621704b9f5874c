// Start-up, the router, the status bar that is always visible, the update offer, log-in and home.
// Other screens are loaded when first opened (they are precached, so this works offline too).

import { formatClock, formatTime, loadLanguage, savedLanguage, t } from './i18n/index.js';
import { ask, field, h, input, isDirty, markClean, replace, toast } from './ui.js';

// Only the words and the DOM helpers are needed to draw the first screen. IndexedDB, sync and the
// service-worker bridge load right after it: on Slow 3G every extra round of requests costs 2 s, and
// a cadre reads and types the log-in form meanwhile.
let db = null;
let sync = null;
let bridge = null;
const loadingCore = Promise.all([import('./db.js'), import('./sync.js'), import('./sw-bridge.js')])
  .then(([d, s, b]) => { db = d; sync = s; bridge = b; });

// A hint kept outside IndexedDB, readable before it loads: was someone logged in on this phone?
const SESSION = 'kader.session';
const session = {
  get: () => { try { return localStorage.getItem(SESSION); } catch { return null; } },
  set: (v) => { try { if (v) localStorage.setItem(SESSION, v); else localStorage.removeItem(SESSION); } catch { /* private mode */ } },
};

const main = () => document.getElementById('main');

// Shared with the screens: who is logged in, navigation, and "something was saved".
export const app = {
  user: null,
  go(path) { location.hash = `#/${path}`; },
  // After a save: sync soon when there is a signal; otherwise let Background Sync wake us later.
  saved() {
    if (navigator.onLine) { clearTimeout(app.syncSoon); app.syncSoon = setTimeout(() => sync.runSync('saved'), 1500); }
    else bridge.requestBackgroundSync();
  },
  refresh: () => render(),
};

// ---- routes -------------------------------------------------------------------------------------

const lazy = (module, name) => async (...args) => (await import(`./screens/${module}.js`))[name](...args);

const ROUTES = {
  '': home,
  pengkajian: lazy('records', 'pengkajianScreen'),
  usulan: lazy('records', 'usulanScreen'),
  cari: lazy('records', 'searchScreen'),
  musyawarah: lazy('musyawarah', 'musyawarahScreen'),
  konflik: lazy('conflicts', 'conflictsScreen'),
  perlu: lazy('attention', 'attentionScreen'),
  pengaturan: lazy('settings', 'settingsScreen'),
};

let lastHash = location.hash;
let rendering = 0;

async function render() {
  const ticket = ++rendering;
  const [, name = '', ...rest] = (location.hash || '#/').split('/');
  const [route, query] = name.split('?');
  const params = new URLSearchParams((location.hash.split('?')[1]) || '');
  const screen = app.user ? ROUTES[route] || home : loginScreen;
  document.querySelectorAll('nav.tabs a').forEach((a) => a.classList.toggle('active', a.dataset.route === route));
  document.body.classList.toggle('logged-out', !app.user);
  const container = h('div', { class: 'screen' });
  try {
    await screen(container, rest.map(decodeURIComponent), params, query);
  } catch (e) {
    console.error(e);
    replace(container, h('p', { class: 'error' }, t('error.screen')));
  }
  if (ticket !== rendering) return; // a newer navigation won
  replace(main(), container);
  markRefusedField(container);
  main().dataset.route = location.hash || '#/'; // drawn: tests and the a11y tree can rely on it
  updateStatus();
}

// A refused record's form shows the reason next to the field to blame (reviewBox names it), where
// she fixes it.
function markRefusedField(container) {
  const box = container.querySelector('[data-refused-field]');
  const input = box && container.querySelector(`form.record-form [name="${box.dataset.refusedField}"]`);
  const target = input?.closest('.field, fieldset');
  if (target) target.append(h('p', { class: 'error field-error refused-field' }, box.dataset.refusedText));
}

async function onHashChange() {
  if (isDirty() && location.hash !== lastHash) {
    const choice = await ask(t('form.leave.title'), t('form.leave.body'),
      [{ label: t('form.leave.stay'), value: 'stay', primary: true }, { label: t('form.leave.go'), value: 'go', danger: true }]);
    if (choice !== 'go') { history.replaceState(null, '', lastHash || '#/'); return; }
    markClean();
  }
  lastHash = location.hash;
  window.scrollTo(0, 0);
  render();
}

// ---- status bar: online/offline, unsent count, what needs her, last sync, progress, error ---------

async function updateStatus() {
  if (!db) return; // drawn again once the core has loaded
  const online = navigator.onLine;
  const [state, meta] = await Promise.all([db.outboxState(), db.getMetas(['last_sync'])]);
  const pending = state.total; // every unsent mutation, refused and held ones included
  const { refused, held } = state.counts;
  const bar = document.getElementById('status');
  bar.classList.toggle('offline', !online);
  bar.classList.toggle('busy', sync.status.running);
  bar.dataset.syncs = String(sync.status.finished || 0); // finished syncs, for whoever waits on one
  // "All sent" only when nothing at all is left on the phone: never while something is refused or held.
  bar.dataset.allSent = String(!pending && !state.photos && !refused && !held);
  replace(bar.querySelector('[data-net]'), online ? t('status.online') : t('status.offline'));
  const unsent = bar.querySelector('[data-unsent]');
  unsent.dataset.count = String(pending);
  replace(unsent, t('status.unsent', { n: pending }), state.photos ? ` · ${t('status.photos', { n: state.photos })}` : '');
  const attention = bar.querySelector('[data-attention]');
  attention.dataset.refused = String(refused);
  attention.dataset.held = String(held);
  attention.hidden = !refused && !held;
  replace(attention, [refused && t('status.refused', { n: refused }), held && t('status.held', { n: held })]
    .filter(Boolean).join(' · '));
  replace(bar.querySelector('[data-last]'), t('status.last', { when: formatTime(sync.status.lastSync || meta.last_sync) }));
  const err = bar.querySelector('[data-error]');
  // No answer while the phone has a connection: the server (or the mobile data) is down, not the signal.
  const code = sync.status.error === 'offline' && online ? 'unreachable' : sync.status.error;
  let message = sync.status.running ? progressText(sync.status.progress) : code ? t(`sync.error.${code}`) : '';
  if (message === `sync.error.${code}`) message = t('sync.error.unknown', { code });
  const retryAt = !sync.status.running && code ? sync.status.nextRetryAt : null;
  bar.dataset.retryAt = retryAt ? String(retryAt) : ''; // when the next automatic try is due
  err.hidden = !message;
  err.classList.toggle('warn', !!code && !sync.status.running);
  replace(err, message, retryAt ? ` ${t('status.retry_at', { time: formatClock(retryAt) })}` : '');
  bar.querySelector('[data-sync]').disabled = sync.status.running || !app.user;
}

// How far a running sync has come, once it knows (a first sync of a large desa takes minutes).
function progressText(p) {
  if (p?.phase === 'push') return t('progress.push', p);
  if (p?.phase === 'photos') return t('progress.photos', p);
  if (p?.phase === 'pull') return p.of ? t('progress.pull', p) : t('progress.pull_unknown', p);
  return t('status.running');
}

function statusBar() {
  return h('div', {},
    h('div', { class: 'status-line' },
      h('span', { class: 'net', 'data-net': '', 'data-testid': 'net' }),
      h('span', { 'data-unsent': '', 'data-testid': 'unsent' }),
      // One tap to the list of what the server refused and what waits for it.
      h('a', { class: 'needs', href: '#/perlu', 'data-attention': '', 'data-testid': 'attention', hidden: true }),
      h('span', { class: 'last', 'data-last': '', 'data-testid': 'last-sync' }),
      h('button', { type: 'button', class: 'sync', 'data-sync': '', 'data-testid': 'sync-button', disabled: true, onclick: () => {
        sync.resetBackoff();
        sync.runSync('button');
      } }, t('status.sync'))),
    h('p', { class: 'sync-error', 'data-error': '', 'data-testid': 'sync-error', role: 'status', hidden: true }));
}

// ---- update offer: never forced, never over data the new version cannot read --------------------

function offerUpdate() {
  const banner = document.getElementById('update');
  replace(banner, h('span', {}, t('update.available')),
    h('button', { type: 'button', class: 'primary', 'data-testid': 'update-button', onclick: applyUpdate }, t('update.apply')));
  banner.hidden = false;
}

async function applyUpdate() {
  const pending = await db.countOutbox();
  const waiting = await bridge.askWaitingVersion();
  if (pending && (!waiting || !waiting.canRead)) {
    await ask(t('update.title'), t('update.cannot_read', { n: pending }), [{ label: t('ok'), value: 'ok', primary: true }]);
    return;
  }
  if (pending) {
    const choice = await ask(t('update.title'), [t('update.unsent', { n: pending }), t('update.safe')], [
      { label: t('update.now'), value: 'now', primary: true },
      navigator.onLine && { label: t('update.sync_first'), value: 'sync' },
      { label: t('update.later'), value: 'later' },
    ].filter(Boolean));
    if (choice === 'sync') { await sync.runSync('before-update'); return applyUpdate(); }
    if (choice !== 'now') return;
  }
  if (isDirty()) {
    const choice = await ask(t('form.leave.title'), t('form.leave.body'),
      [{ label: t('form.leave.stay'), value: 'stay', primary: true }, { label: t('update.now'), value: 'go', danger: true }]);
    if (choice !== 'go') return;
  }
  bridge.switchToWaitingVersion();
}

// ---- log in --------------------------------------------------------------------------------------

async function loginScreen(el) {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary big' }, t('login.submit'));
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    error.hidden = true;
    button.disabled = true;
    replace(button, t('login.busy'));
    try {
      await loadingCore;
      const user = await sync.login(form.elements.username.value.trim(), form.elements.password.value);
      if (user.role !== 'kader') {
        await db.setMeta('token', null);
        throw new sync.ApiError(403, 'not_a_cadre');
      }
      app.user = user;
      session.set(user.username);
      await db.clientId();
      await persist();
      await sync.runSync('login');
      app.go('');
      render();
    } catch (err) {
      replace(error, t(`login.error.${err.code}`) === `login.error.${err.code}` ? t('login.error.other') : t(`login.error.${err.code}`));
      error.hidden = false;
    } finally {
      button.disabled = false;
      replace(button, t('login.submit'));
    }
  } },
  h('h1', {}, t('app.name')),
  h('p', {}, t('login.intro')),
  field(t('login.username'), input('username', '', { autocomplete: 'username', autocapitalize: 'none', required: true })),
  field(t('login.password'), input('password', '', { type: 'password', autocomplete: 'current-password', required: true })),
  error, button);
  replace(el, form);
}

// Asks the browser to keep this app's data even when the phone runs short of space.
async function persist() {
  if (!navigator.storage?.persist) return;
  const granted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  await db.setMeta('persisted', granted);
}

// ---- home ---------------------------------------------------------------------------------------

async function home(el) {
  const [desa, dusun, pengkajian, musyawarah, usulan, conflicts, persisted] = await Promise.all([
    db.getReference('desa'), db.listRecords('dusun'), db.listRecords('pengkajian'), db.listRecords('musyawarah'),
    db.listRecords('usulan'), db.listRecords('conflicts'), navigator.storage?.persisted?.() ?? false,
  ]);
  const desaName = desa?.[0]?.name || app.user.wilayah_name;
  const all = [...pengkajian, ...musyawarah, ...usulan];
  const fix = all.filter((r) => r.row.review_state === 'perlu_perbaikan').length;
  const open = conflicts.filter((c) => !c.row.resolved_at).length;
  const { refused, held } = (await db.outboxState()).counts; // lines and photos included
  const card = (route, count, text) => h('a', { class: 'tile', href: `#/${route}` }, h('strong', {}, String(count)), h('span', {}, text));
  replace(el,
    h('h1', {}, t('home.desa', { desa: desaName })),
    h('p', { class: 'muted' }, t('home.who', { nama: app.user.nama || app.user.username })),
    h('p', { class: 'dusun-list' }, dusun.length ? [t('home.dusun'), ' ', dusun.map((d) => d.row.nama).sort().join(', ')] : t('home.no_dusun')),
    h('div', { class: 'tiles' },
      card('pengkajian', pengkajian.length, t('nav.pengkajian')),
      card('musyawarah', musyawarah.length, t('nav.musyawarah')),
      card('usulan', usulan.length, t('nav.usulan'))),
    h('h2', {}, t('home.attention')),
    h('ul', { class: 'attention' },
      h('li', {}, h('a', { href: '#/cari?state=perlu_perbaikan', 'data-testid': 'attention-fix' }, t('home.fix', { n: fix }))),
      h('li', {}, h('a', { href: '#/konflik', 'data-testid': 'attention-conflicts' }, t('home.conflicts', { n: open }))),
      refused ? h('li', {}, h('a', { href: '#/perlu', class: 'warn', 'data-testid': 'attention-refused' },
        t('home.rejected', { n: refused }))) : null,
      held ? h('li', {}, h('a', { href: '#/perlu', class: 'warn', 'data-testid': 'attention-held' },
        t('home.held', { n: held }))) : null),
    h('p', { class: 'muted', 'data-testid': 'storage' }, persisted ? t('storage.granted') : t('storage.not_granted')),
    h('div', { class: 'links' },
      h('a', { class: 'button', href: '#/cari' }, t('nav.cari')),
      h('a', { class: 'button', href: '#/konflik' }, t('nav.konflik')),
      h('a', { class: 'button', href: '#/pengaturan' }, t('nav.pengaturan'))));
}

// Re-draws the screen after a sync brought news — but never under her fingers: not while a form holds
// unsaved input, nor while anything on the screen has her focus (the attendance box keeps it
// between names; the P/L button holds it while a line is saved).
function redrawWithNews() {
  const typing = !!document.activeElement?.closest?.('#main, dialog');
  if (app.user && !isDirty() && !typing) render();
}

// ---- start --------------------------------------------------------------------------------------

function chrome() {
  replace(document.getElementById('status'), statusBar());
  replace(document.getElementById('tabs'),
    ['', 'pengkajian', 'musyawarah', 'usulan', 'cari'].map((r) =>
      h('a', { href: `#/${r}`, 'data-route': r }, t(`nav.${r || 'home'}`))));
}

async function start() {
  await loadLanguage(savedLanguage());
  chrome();
  window.addEventListener('hashchange', onHashChange);
  if (!session.get()) {
    // Nobody logged in here (a fresh phone): show the log-in form now, before the core arrives.
    await render();
    performance.mark('kader-ready');
  }
  await loadingCore;
  app.user = (await db.getMeta('token')) ? await db.getMeta('user') : null;
  session.set(app.user?.username);
  window.addEventListener('online', () => { sync.resetBackoff(); updateStatus(); sync.runSync('online'); });
  window.addEventListener('offline', updateStatus);
  sync.syncEvents.addEventListener('status', async () => {
    await updateStatus();
    if (!sync.status.running && sync.status.error === 'auth_invalid_token') { app.user = null; render(); }
    // The server wants a newer app: look for it now (it is offered, never forced).
    if (!sync.status.running && sync.status.error === 'update_required') bridge.checkForUpdate();
  });
  db.dbEvents.addEventListener('change', () => updateStatus());
  db.dbEvents.addEventListener('versionchange', () => toast(t('update.reload')));
  bridge.swEvents.addEventListener('update', offerUpdate);
  bridge.swEvents.addEventListener('synced', () => { updateStatus(); redrawWithNews(); });
  let lastRunning = false;
  sync.syncEvents.addEventListener('status', () => {
    if (lastRunning && !sync.status.running) redrawWithNews();
    lastRunning = sync.status.running;
  });
  if (app.user || !document.querySelector('#main [name=username]')) {
    await render();
    performance.mark('kader-ready'); // first screen drawn and usable (bench/pwa.py reads it)
  } else {
    updateStatus();
  }
  bridge.startServiceWorker().catch((e) => console.warn('service worker', e));
  if (app.user && navigator.onLine) sync.runSync('start');
  setInterval(() => { if (navigator.onLine) bridge.checkForUpdate(); }, 30 * 60 * 1000);
}

start();
