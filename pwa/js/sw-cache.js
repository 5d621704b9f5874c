// What the service worker does, as named functions (sw.js only wires them to events): precache the
// shell under a versioned cache, refuse to install over unsent data it cannot read, drop old caches,
// and answer requests for the shell from the cache. /api/ is never cached: data lives in IndexedDB.

import { CACHE_NAME, CACHE_PREFIX, PRECACHE, READS_OUTBOX } from './shell.js';
import { peekOutboxSchemas } from './db.js';

export async function installShell() {
  const present = await peekOutboxSchemas();
  const unreadable = present.filter((s) => !READS_OUTBOX.includes(s));
  if (unreadable.length) {
    // Failing the install keeps the old version in charge until the outbox has been sent.
    throw new Error(`this version cannot read outbox schema ${unreadable.join(', ')}`);
  }
  const cache = await caches.open(CACHE_NAME);
  // `no-cache`: revalidate every file with the server (never fill a new version's cache from a stale
  // HTTP cache), yet a file the page has just downloaded costs only a 304, not its bytes again.
  await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'no-cache' })));
}

export async function dropOldCaches() {
  for (const name of await caches.keys()) {
    if (name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME) await caches.delete(name);
  }
}

// Only the app's own shell is served from the cache; the API, the admin and other origins go to the
// network untouched.
export function isShellRequest(request) {
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== 'GET') return false;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/admin') || url.pathname.startsWith('/schema')) {
    return false;
  }
  return request.mode === 'navigate' ? url.pathname === '/' || url.pathname === '/index.html'
    : PRECACHE.includes(url.pathname);
}

export async function respondFromShell(request) {
  const cache = await caches.open(CACHE_NAME);
  const key = request.mode === 'navigate' ? '/' : new URL(request.url).pathname;
  return (await cache.match(key)) || fetch(request);
}

export function canRead(schemas) {
  return schemas.every((s) => READS_OUTBOX.includes(s));
}
