// The app shell: its version, the files the service worker keeps for offline use, and which outbox
// layouts this version can push. Imported by sw.js.

// Filled in by the server each time it serves this file (server/appshell.py): a hash of every file
// of the app, so any changed file is a new version and no one bumps it by hand. Left as is on disk.
export const VERSION = 'dev';

// Layout of the mutations this version writes into the outbox (db.js stores it with each one).
export const OUTBOX_SCHEMA = 1;
// Layout of a mutation the server refused: kept, marked `refused`, until she fixes or discards it. A
// version that does not know it would send it again and drop it when refused again, so one never
// takes over an outbox holding one (ordinary mutations stay layout 1, readable by older versions).
export const REFUSED_SCHEMA = 2;
// Layouts this version can still read and push. A version that cannot read what the old one left
// unsent must never take over (sw.js refuses to install; sw-bridge.js asks again before updating).
export const READS_OUTBOX = [1, 2];

export const CACHE_PREFIX = 'kader-shell-';
export const CACHE_NAME = CACHE_PREFIX + VERSION;

// Everything the app needs to start with no network: every file of the app, also filled in by the
// server. Keep the app small: cadres pay for every kilobyte.
export const PRECACHE = [];
