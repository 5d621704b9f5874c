// The service worker: event listeners only. What they do lives in js/sw-cache.js (the shell cache)
// and js/sync.js (Background Sync runs the same sync as the page).

import { VERSION } from './js/shell.js';
import { canRead, dropOldCaches, installShell, isShellRequest, respondFromShell } from './js/sw-cache.js';
import { RETRYABLE, runSync } from './js/sync.js';

self.addEventListener('install', (event) => event.waitUntil(installShell()));

self.addEventListener('activate', (event) => event.waitUntil(dropOldCaches().then(() => self.clients.claim())));

self.addEventListener('fetch', (event) => {
  if (isShellRequest(event.request)) event.respondWith(respondFromShell(event.request));
});

self.addEventListener('message', (event) => {
  const msg = event.data || {};
  // Only on the cadre's word (sw-bridge.js asks her first): an update is never forced mid-task.
  if (msg.type === 'SKIP_WAITING') self.skipWaiting();
  if (msg.type === 'HELLO' && event.ports[0]) {
    event.ports[0].postMessage({ version: VERSION, canRead: canRead(msg.outboxSchemas || []) });
  }
});

self.addEventListener('sync', (event) => {
  if (event.tag !== 'kader-sync') return;
  event.waitUntil(runSync('background').then(async (result) => {
    for (const client of await self.clients.matchAll({ type: 'window' })) client.postMessage({ type: 'synced', result });
    // The signal came back but the server did not answer: failing the event makes the browser keep the
    // registration and try again later with its own back-off (it has no timers of ours to rely on).
    if (RETRYABLE.has(result)) throw new Error(`background sync failed: ${result}`);
  }));
});
