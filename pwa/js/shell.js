// The app shell: its version, the files the service worker keeps for offline use, and which outbox
// layouts this version can push. Imported by sw.js, so changing any line here ships a new version.

export const VERSION = '0.2.1';

// Layout of the mutations this version writes into the outbox (db.js stores it with each one).
export const OUTBOX_SCHEMA = 1;
// Layouts this version can still read and push. A version that cannot read what the old one left
// unsent must never take over (sw.js refuses to install; sw-bridge.js asks again before updating).
export const READS_OUTBOX = [1];

export const CACHE_PREFIX = 'kader-shell-';
export const CACHE_NAME = CACHE_PREFIX + VERSION;

// Everything the app needs to start with no network. Keep it small: cadres pay for every kilobyte.
export const PRECACHE = [
  '/',
  '/manifest.webmanifest',
  '/css/app.css',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
  '/js/shell.js',
  '/js/app.js',
  '/js/ui.js',
  '/js/db.js',
  '/js/sync.js',
  '/js/protocol.js',
  '/js/contract.js',
  '/js/sw-bridge.js',
  '/js/sw-cache.js',
  '/js/photo.js',
  '/js/i18n/index.js',
  '/js/i18n/id.js',
  '/js/i18n/en.js',
  '/js/screens/common.js',
  '/js/screens/records.js',
  '/js/screens/musyawarah.js',
  '/js/screens/conflicts.js',
  '/js/screens/settings.js',
];
