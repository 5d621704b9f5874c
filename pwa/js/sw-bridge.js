// The one page-side module that talks to the service worker: registers it, notices a waiting new
// version, asks that version whether it can read the unsent data, and switches only when told to.

import { peekOutboxSchemas } from './db.js';

export const swEvents = new EventTarget(); // 'update' (a new version waits), 'synced' (background sync ran)

let registration = null;
let switching = false;

export async function startServiceWorker() {
  if (!('serviceWorker' in navigator)) return null;
  registration = await navigator.serviceWorker.register('/sw.js', { type: 'module', updateViaCache: 'none' });
  const announce = () => swEvents.dispatchEvent(new Event('update'));
  const watch = (worker) => worker?.addEventListener('statechange', () => {
    if (worker.state === 'installed' && navigator.serviceWorker.controller) announce();
  });
  if (registration.waiting && navigator.serviceWorker.controller) announce();
  watch(registration.installing);
  registration.addEventListener('updatefound', () => watch(registration.installing));
  navigator.serviceWorker.addEventListener('controllerchange', () => { if (switching) location.reload(); });
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data?.type === 'synced') swEvents.dispatchEvent(new Event('synced'));
  });
  return registration;
}

export const hasWaitingVersion = () => !!registration?.waiting;

export async function checkForUpdate() {
  try { await registration?.update(); } catch { /* offline: try again later */ }
}

// Asks the waiting version who it is and whether it can read this phone's unsent mutations.
export async function askWaitingVersion() {
  const worker = registration?.waiting;
  if (!worker) return null;
  const outboxSchemas = await peekOutboxSchemas();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 3000);
    channel.port1.onmessage = (e) => { clearTimeout(timer); resolve(e.data); };
    worker.postMessage({ type: 'HELLO', outboxSchemas }, [channel.port2]);
  });
}

// Lets the waiting version take over; the page reloads when it has.
export function switchToWaitingVersion() {
  if (!registration?.waiting) return false;
  switching = true;
  registration.waiting.postMessage({ type: 'SKIP_WAITING' });
  return true;
}

// Background Sync, where the browser has it: the phone syncs when the signal returns even if the app
// was closed meanwhile.
export async function requestBackgroundSync() {
  try { await registration?.sync?.register('kader-sync'); } catch { /* not offered here */ }
}
