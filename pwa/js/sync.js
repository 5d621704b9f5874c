// The one module that syncs (docs/sync-protocol.md): push the outbox in order, apply each answer,
// upload photos, pull pages and apply each atomically before the cursor moves. One sync at a time,
// across tabs and the service worker (Web Locks). Knows no DOM and no words: it reports codes, and
// the screens say them in the cadre's language. Also the one place that talks HTTP to the API.

import * as db from './db.js';
import { MAX_MUTATIONS_PER_PUSH, PROTOCOL_VERSION, PULL_LIMIT } from './protocol.js';
import { VERSION } from './shell.js';

export class ApiError extends Error {
  constructor(status, code, detail, retryAfter = 0) {
    super(detail || code);
    this.status = status;
    this.code = code; // from the server's error catalogue, or 'offline' when nothing answered
    this.retryAfter = retryAfter; // seconds the server asked us to wait (Retry-After), 0 if it did not say
  }
}

async function gzip(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

// One API call. Problem details become an ApiError carrying the server's `code` (clients branch on
// codes, never on message text); no answer at all is code 'offline'.
export async function api(path, { method = 'GET', body, token, blob } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (blob) {
    payload = blob;
    headers['Content-Type'] = blob.type || 'application/octet-stream';
  } else if (body !== undefined) {
    const text = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
    // Mobile data costs money: push bodies above a few kilobytes travel gzipped.
    if (text.length > 4096 && typeof CompressionStream === 'function' && path.endsWith('/push')) {
      payload = await gzip(text);
      headers['Content-Encoding'] = 'gzip';
    } else {
      payload = text;
    }
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, 'offline', String(e));
  }
  if (res.ok) return res.status === 204 || method === 'HEAD' ? null : res.json();
  let problem = {};
  try { problem = await res.json(); } catch { /* not problem details */ }
  // A HEAD answer has no body: its status alone says it.
  const code = problem.code || (res.status === 404 ? 'not_found' : `http_${res.status}`);
  throw new ApiError(res.status, code, problem.detail, Number(res.headers.get('Retry-After')) || 0);
}

// ---- status everyone can watch --------------------------------------------------------------------

export const syncEvents = new EventTarget(); // 'status' whenever `status` changes
// `progress` while a sync runs: {phase: 'push', n, m} changes answered of those that could go,
// {phase: 'photos', n, m, kb} the photo being sent, {phase: 'pull', k, of} the page being received of
// about how many (of: null until the server has estimated). `refused`: what the last push refused.
export const status = { running: false, error: null, detail: null, progress: null, refused: [] };

function setStatus(patch) {
  Object.assign(status, patch);
  syncEvents.dispatchEvent(new Event('status'));
}

// Failures worth retrying by themselves. Others (update_required, auth_invalid_token, client_mismatch)
// need the cadre to act: log in again, update the app.
export const RETRYABLE = new Set(['offline', 'database_unavailable', 'internal_error', 'too_many_attempts',
  'http_502', 'http_503', 'http_504', 'unexpected']);

let failures = 0;
let retryTimer = null;

function scheduleRetry(retryAfter = 0) {
  clearTimeout(retryTimer);
  status.nextRetryAt = null;
  // The service worker does not keep timers alive; offline, the `online` event starts the next try.
  if (typeof window === 'undefined' || !navigator.onLine) return;
  failures += 1;
  // Never sooner than the server asked (a rate limit's Retry-After, a busy database's).
  const seconds = Math.max(Math.min(5 * 2 ** (failures - 1), 300) * (0.75 + Math.random() / 2), retryAfter);
  retryTimer = setTimeout(() => runSync('retry'), seconds * 1000);
  status.nextRetryAt = Date.now() + seconds * 1000; // shown once the failure is announced
}

// Forget the back-off (the connection came back, or she pressed the button).
export function resetBackoff() {
  failures = 0;
  clearTimeout(retryTimer);
  status.nextRetryAt = null;
}

let current = null;
let again = false;

// Runs one sync unless one is running already (then it answers that one's promise, and one more sync
// follows it if it succeeds: a record saved after its push would otherwise wait for the next trigger).
// Resolves to 'ok', 'busy', 'no_token' or an error code; never rejects.
export function runSync(reason = 'button') {
  if (current) { again = true; return current; }
  setStatus({ running: true, progress: null }); // at once: the button press shows, even before the lock is held
  const work = () => doSync(reason);
  current = (navigator.locks
    ? navigator.locks.request('kader-sync', { ifAvailable: true }, (lock) => (lock ? work() : 'busy'))
    : work()
  ).then((result) => {
    current = null;
    setStatus({ running: false, progress: null, finished: (status.finished || 0) + 1 });
    if (again) {
      again = false;
      if (result === 'ok') runSync('again');
    }
    return result;
  }, (e) => {
    current = null;
    setStatus({ running: false, progress: null, finished: (status.finished || 0) + 1, error: 'unexpected',
      detail: String(e) });
    return 'unexpected';
  });
  return current;
}

async function doSync() {
  const { token } = await db.getMetas(['token']);
  if (!token) return 'no_token';
  try {
    const refused = await pushAll(token);
    await uploadPhotos(token);
    await pullAll(token);
    const now = Date.now();
    await db.setMeta('last_sync', now);
    resetBackoff();
    setStatus({ running: false, error: null, detail: null, lastSync: now, nextRetryAt: null, refused });
    return 'ok';
  } catch (e) {
    const code = e instanceof ApiError ? e.code : 'unexpected';
    if (!(e instanceof ApiError)) console.error(e);
    // A failure she must act on (update, log in again) ends the back-off: no retry loop behind it.
    if (RETRYABLE.has(code) || (e instanceof ApiError && e.status >= 500)) scheduleRetry(e.retryAfter || 0);
    else resetBackoff();
    setStatus({ running: false, error: code, detail: e.message }); // with the next try's time, if any
    return code;
  }
}

const wire = (m) => ({ op: m.op, mutation_id: m.mutation_id, seq: m.seq, table: m.table,
  record_id: m.record_id, base_version: m.base_version, origin: m.origin, changes: m.changes || {} });

const pushBatch = async (token, batch) => api('/api/sync/push', { method: 'POST', token, body: {
  client_id: await db.clientId(), protocol_version: PROTOCOL_VERSION, app_version: VERSION, mutations: batch.map(wire),
} });

// Every answer names the server's database. Another one than this phone synced with means the server
// was restored from a backup (docs/sync-protocol.md, "Restored server"): what it acknowledged since the
// backup may be gone, so the sent mutations go back to the outbox (and are pushed again) and the synced
// copy is pulled again from the start. True when that happened.
async function adoptDatabase(id) {
  const known = await db.getMeta('database_id');
  if (!id || id === known) return false;
  if (!known) { await db.setMeta('database_id', id); return false; }
  await db.replaySent(id);
  return true;
}

// Push, step by step: a batch holds at most one mutation per record, so edits queued behind one
// another go in later rounds, each on the version the previous answer gave; so do the lines and usulan
// of a meeting made on the phone, once the meeting is taken. Refused records and what waits for them
// stay in the outbox (db.planOutbox). Returns what was refused.
async function pushAll(token) {
  const refused = [];
  let size = MAX_MUTATIONS_PER_PUSH;
  const progress = { phase: 'push', n: 0, m: (await db.outboxState()).counts.sendable };
  for (let round = 0; round < 100; round++) {
    const batch = await db.nextBatch(size);
    if (!batch.length) break;
    progress.m = Math.max(progress.m, progress.n + batch.length);
    setStatus({ progress: { ...progress } });
    let answer;
    try {
      answer = await pushBatch(token, batch);
    } catch (e) {
      // Too large for the server or a proxy in between (photos' notes, long attendance lists): the
      // same mutations in smaller batches. One mutation alone too large is reported, never dropped.
      if (e.code !== 'body_too_large' && e.status !== 413) throw e;
      if (batch.length === 1) throw e;
      size = Math.max(1, Math.floor(batch.length / 2));
      continue;
    }
    refused.push(...await db.applyResults(batch, answer.results, answer.database_id));
    progress.n += batch.length;
    setStatus({ progress: { ...progress } });
    await adoptDatabase(answer.database_id); // after a restore the next rounds send the sent ones again
  }
  return refused;
}

// Photos go after their records (records may arrive first) and one at a time; the server is asked
// first, so a resumed sync never sends a photo twice. A photo the server refuses does not stop sync.
// One whose record is refused or held waits with it (db.uploadableAttachments).
async function uploadPhotos(token) {
  const photos = await db.uploadableAttachments();
  for (const [i, photo] of photos.entries()) {
    setStatus({ progress: { phase: 'photos', n: i + 1, m: photos.length, kb: Math.max(1, Math.round(photo.size / 1024)) } });
    const path = `/api/attachments/${photo.sha256}`;
    try {
      await api(path, { method: 'HEAD', token });
    } catch (e) {
      if (e.code !== 'not_found') throw e;
      try {
        await api(path, { method: 'PUT', token, blob: photo.blob });
      } catch (put) {
        if (put.code === 'offline' || put.status >= 500) throw put;
        console.warn('photo refused', photo.sha256, put.code);
        continue;
      }
    }
    await db.markUploaded(photo.sha256);
  }
}

// A photo named by a record but taken on another phone: fetched once when shown, checked against its
// name, and kept in IndexedDB so it shows offline afterwards. Resolves to the stored photo or null.
export async function downloadAttachment(sha256) {
  const token = await db.getMeta('token');
  if (!token || !navigator.onLine) return null;
  let res;
  try {
    res = await fetch(`/api/attachments/${sha256}`, { headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store', credentials: 'omit' });
  } catch { return null; }
  if (!res.ok) return null;
  const blob = await res.blob();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  if ([...digest].map((b) => b.toString(16).padStart(2, '0')).join('') !== sha256) return null;
  const photo = { sha256, blob, type: blob.type || 'image/jpeg', size: blob.size };
  await db.cacheAttachment(photo);
  return photo;
}

// Pulls page after page. The first page of a sync asks the server to estimate what follows (it answers
// only when more follows), so a long first sync can say "page k of about K".
async function pullAll(token) {
  let cursor = await db.getMeta('cursor');
  let resynced = false;
  let pageNo = 0;
  let about = null;
  for (;;) {
    const query = new URLSearchParams({ limit: String(PULL_LIMIT), protocol_version: String(PROTOCOL_VERSION) });
    if (cursor) query.set('cursor', cursor);
    if (pageNo === 0 || !cursor) query.set('estimate', 'true');
    // Once a sync, the phone names itself: the office sees when each phone last received (last_pull_at).
    if (pageNo === 0) query.set('client_id', await db.clientId());
    pageNo += 1;
    setStatus({ progress: { phase: 'pull', k: pageNo, of: about && Math.max(about, pageNo) } });
    let page;
    try {
      page = await api(`/api/sync/pull?${query}`, { token });
    } catch (e) {
      if (e.code === 'database_replaced' && !resynced) {
        // The server was restored from a backup (its new id comes with any push answer, even an empty
        // one): send again what it may have lost, then pull from the beginning.
        resynced = true;
        await db.replaySent((await pushBatch(token, [])).database_id);
        await pushAll(token);
        cursor = null;
        continue;
      }
      if (e.code === 'resync_required' && !resynced) {
        // The cursor cannot go on (moved desa, or tombstones purged): drop the synced copy, keep the
        // outbox, start again from the beginning.
        resynced = true;
        await db.dropSyncedCopies();
        cursor = null;
        continue;
      }
      throw e;
    }
    if (!resynced && await adoptDatabase(page.database_id)) {
      resynced = true; // restored without this cursor noticing (one made before identities): as above
      await pushAll(token);
      cursor = null;
      continue;
    }
    await db.applyPage(page.changes, page.next_cursor, page.reference, page.database_id);
    cursor = page.next_cursor;
    if (!page.has_more) return;
    if (typeof page.remaining === 'number') about = pageNo + Math.ceil(page.remaining / PULL_LIMIT);
  }
}

// ---- account --------------------------------------------------------------------------------------

export async function login(username, password) {
  const deviceName = `HP ${navigator.userAgentData?.platform || navigator.platform || ''}`.trim().slice(0, 120);
  const res = await api('/api/auth/login', { method: 'POST', body: { username, password, device_name: deviceName } });
  await db.setMeta('token', res.token);
  await db.setMeta('user', res.user);
  resetBackoff();
  setStatus({ error: null, detail: null });
  return res.user;
}

// Revokes this device's token when there is a connection; the caller wipes local data afterwards.
export async function logout() {
  const token = await db.getMeta('token');
  if (token) {
    try { await api('/api/auth/logout', { method: 'POST', token }); } catch { /* offline: the token dies with the data */ }
  }
}

export async function resolveConflict(conflictId, body) {
  const token = await db.getMeta('token');
  const res = await api(`/api/sync/conflicts/${conflictId}/resolve`, { method: 'POST', token, body });
  // The answer carries the record as it is now and the settled conflict: apply both at once.
  const c = res.conflict;
  await db.applyPage([
    { table: c.table_name, record_id: res.record.id, version: res.record.version, deleted: !!res.record.deleted_at,
      row: res.record },
    { table: 'conflicts', record_id: c.id, version: c.version, deleted: false, row: c },
  ]);
  return res;
}
