// The one module that owns IndexedDB: records, reference data, the outbox, the pull cursor, settings
// and photos. Rules (DESIGN §3.2, jakearchibald/idb): upgrades are a ladder; nothing but IndexedDB
// is awaited inside a transaction (never the network); a form's record and its mutation are written
// in one transaction, so neither exists without the other.

import { OUTBOX_SCHEMA, READS_OUTBOX, VERSION } from './shell.js';
import { TABLES, uuidv7 } from './protocol.js';

const NAME = 'kader';
const DB_VERSION = 2;
// Acknowledged mutations are kept this long, to be sent again should the server be restored from a
// backup (docs/sync-protocol.md, "Restored server"): a backup older than this can lose phone data.
export const SENT_RETENTION_DAYS = 45;

export const dbEvents = new EventTarget(); // 'change' after every write; 'versionchange' when outdated

// Lists read whole tables (a desa may hold thousands of records): keep the last read of each table in
// memory until something writes. Writes elsewhere (another tab, the service worker's background sync)
// announce themselves on a BroadcastChannel.
const tables = new Map();
let generation = 0;
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('kader-db') : null;
function forget() { generation += 1; tables.clear(); }
channel?.addEventListener('message', () => { forget(); dbEvents.dispatchEvent(new Event('change')); });

let opening = null;

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    // records: {t, id, row (what the cadre sees: server row + her pending changes), server (the last
    // row pulled, kept only while she has pending changes: otherwise it equals `row`, and a list of
    // 10,000 must not read everything twice), version (server version she started from, 0 = never
    // on the server), pending, deleted, rejected}
    db.createObjectStore('records', { keyPath: ['t', 'id'] }).createIndex('by_t', 't');
    // outbox: mutations in the order they were made; `seq` is the client's own counter.
    db.createObjectStore('outbox', { keyPath: 'seq' }).createIndex('by_rec', ['table', 'record_id']);
    db.createObjectStore('meta'); // cursor, token, user, client_id, seq, last_sync …
    db.createObjectStore('reference'); // bidang, desa
    // photos: {sha256, blob, type, size, uploaded: 0|1} (0/1 because booleans cannot be indexed)
    db.createObjectStore('attachments', { keyPath: 'sha256' }).createIndex('by_uploaded', 'uploaded');
  }
  if (oldVersion < 2) {
    // sent: mutations the server acknowledged, {…mutation, acked_under (database id), acked_at}, kept
    // SENT_RETENTION_DAYS in case the server is restored from a backup that lacks them.
    db.createObjectStore('sent', { keyPath: 'seq' }).createIndex('by_at', 'acked_at');
  }
  // if (oldVersion < 3) { … } — later versions go here, one rung each; never edit a rung above.
}

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const r = indexedDB.open(NAME, DB_VERSION);
      r.onupgradeneeded = (e) => upgrade(r.result, e.oldVersion);
      r.onsuccess = () => {
        const db = r.result;
        // A newer version of the app wants to upgrade: let it, and ask this page to reload.
        db.onversionchange = () => { db.close(); opening = null; dbEvents.dispatchEvent(new Event('versionchange')); };
        resolve(db);
      };
      r.onerror = () => { opening = null; reject(r.error); };
      r.onblocked = () => dbEvents.dispatchEvent(new Event('blocked'));
    });
  }
  return opening;
}

const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

// Runs `work(stores)` in one transaction and resolves once it has committed.
async function tx(names, mode, work) {
  const db = await openDb();
  const t = db.transaction(names, mode, { durability: 'strict' });
  const done = new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  const stores = Object.fromEntries(names.map((n) => [n, t.objectStore(n)]));
  let result;
  try {
    result = await work(stores);
  } catch (e) {
    try { t.abort(); } catch { /* already finished */ }
    throw e;
  }
  await done;
  if (mode === 'readwrite') {
    forget();
    channel?.postMessage('change');
    dbEvents.dispatchEvent(new Event('change'));
  }
  return result;
}

const bySeq = (a, b) => a.seq - b.seq;

// What the cadre sees: the server's row with her unsent changes on top, in the order she made them.
function overlay(server, pending) {
  const row = { ...(server || {}) };
  for (const m of pending.sort(bySeq)) Object.assign(row, m.changes || {});
  return row;
}

// ---- meta ---------------------------------------------------------------------------------------

export const getMeta = (key) => tx(['meta'], 'readonly', (s) => req(s.meta.get(key)));
export const setMeta = (key, value) => tx(['meta'], 'readwrite', (s) => { s.meta.put(value, key); });

export async function getMetas(keys) {
  return tx(['meta'], 'readonly', async (s) => {
    const out = {};
    for (const k of keys) out[k] = await req(s.meta.get(k));
    return out;
  });
}

// A fresh installation gets its own client id (the server binds it to the first account using it).
export async function clientId() {
  return tx(['meta'], 'readwrite', async (s) => {
    let id = await req(s.meta.get('client_id'));
    if (!id) { id = uuidv7(); s.meta.put(id, 'client_id'); }
    return id;
  });
}

export const getReference = (key) => tx(['reference'], 'readonly', (s) => req(s.reference.get(key)));

// ---- records ------------------------------------------------------------------------------------

export const getRecord = (table, id) => tx(['records'], 'readonly', (s) => req(s.records.get([table, id])));

// Every live record of a table (what lists, rankings and searches work from).
// Every live record of a table (what lists, rankings and searches work from). The records are shared
// with the cache: callers read them and never change them.
export async function listRecords(table) {
  if (!tables.has(table)) {
    const seen = generation;
    const reading = tx(['records'], 'readonly', (s) => req(s.records.index('by_t').getAll(table)));
    tables.set(table, reading);
    reading.then(() => { if (seen !== generation) tables.delete(table); }, () => tables.delete(table));
  }
  return (await tables.get(table)).filter((r) => !r.deleted);
}

// Saves a form: the record and its mutation in one transaction (DESIGN §3.2). `changes` holds only
// the fields she changed; a record the server has never accepted is sent whole, as a create.
// `attachments` (photos) are stored in the same transaction as the record that names them.
export async function saveRecord(table, id, changes, attachments = []) {
  return tx(['records', 'outbox', 'meta', 'attachments'], 'readwrite', async (s) => {
    const rec = await req(s.records.get([table, id]));
    const known = rec && (rec.version > 0 || rec.pending > 0);
    const seq = ((await req(s.meta.get('seq'))) || 0) + 1;
    s.meta.put(seq, 'seq');
    const next = rec || { t: table, id, server: null, version: 0, pending: 0, row: { id } };
    if (next.version > 0 && !next.pending && !next.server) next.server = { ...next.row }; // her base
    next.row = { ...next.row, ...changes };
    const op = known ? 'update' : 'create';
    const sent = op === 'create' ? writable(table, next.row) : changes;
    const m = { seq, mutation_id: uuidv7(), table, record_id: id, op, base_version: next.version,
      origin: next.origin ?? await req(s.meta.get('database_id')), changes: sent, schema: OUTBOX_SCHEMA,
      at: Date.now() };
    s.outbox.add(m);
    next.pending += 1;
    next.rejected = null;
    next.localAt = Date.now();
    s.records.put(next);
    for (const a of attachments) s.attachments.put({ ...a, uploaded: 0 });
    return m;
  });
}

function writable(table, row) {
  const fields = TABLES[table].fields;
  return Object.fromEntries(Object.entries(row).filter(([k, v]) => k in fields && v !== undefined));
}

export async function deleteRecord(table, id) {
  return tx(['records', 'outbox', 'meta'], 'readwrite', async (s) => {
    const rec = await req(s.records.get([table, id]));
    if (!rec) return null;
    const seq = ((await req(s.meta.get('seq'))) || 0) + 1;
    s.meta.put(seq, 'seq');
    const m = { seq, mutation_id: uuidv7(), table, record_id: id, op: 'delete', base_version: rec.version,
      origin: rec.origin ?? await req(s.meta.get('database_id')), changes: {}, schema: OUTBOX_SCHEMA, at: Date.now() };
    s.outbox.add(m);
    s.records.put({ ...rec, deleted: true, pending: rec.pending + 1, localAt: Date.now() });
    return m;
  });
}

// ---- outbox -------------------------------------------------------------------------------------

export const countOutbox = () => tx(['outbox'], 'readonly', (s) => req(s.outbox.count()));
export const listOutbox = () => tx(['outbox'], 'readonly', (s) => req(s.outbox.getAll()));

// The next batch to push: in the order made, but at most one mutation per record. The server merges
// against the version a mutation names, so a second edit of one record must wait for the first's
// answer (applyResults moves it onto the new version) or it would conflict with itself.
export async function nextBatch(limit) {
  const all = await listOutbox();
  const seen = new Set();
  const batch = [];
  for (const m of all.sort(bySeq)) {
    const key = `${m.table}/${m.record_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    batch.push(m);
    if (batch.length >= limit) break;
  }
  return batch;
}

// Applies a push answer (protocol "Push", the status table): every answered mutation leaves the outbox.
// What was taken is kept in `sent` (with the database id that took it) in case of a restore.
export async function applyResults(batch, results, databaseId) {
  const bySeen = new Map(batch.map((m) => [m.mutation_id, m]));
  const rejected = [];
  await tx(['records', 'outbox', 'sent'], 'readwrite', async (s) => {
    const now = Date.now();
    for (const r of results) {
      const m = bySeen.get(r.mutation_id);
      if (!m) continue;
      s.outbox.delete(m.seq);
      if (r.status !== 'rejected') s.sent.put({ ...m, acked_under: databaseId, acked_at: now });
      const key = [m.table, m.record_id];
      const later = (await req(s.outbox.index('by_rec').getAll(key))).filter((x) => x.seq !== m.seq).sort(bySeq);
      // Only after "applied" is the server's record exactly ours at `version`: then the edits that
      // waited behind this one move onto it. After "merged" or "conflict" the server holds changes
      // she has not seen yet, so they keep their base and the server merges them field by field.
      if (r.status === 'applied') {
        for (const x of later) {
          if (x.base_version === m.base_version) {
            Object.assign(x, { base_version: r.version, origin: databaseId ?? x.origin });
            s.outbox.put(x);
          }
        }
      }
      const rec = await req(s.records.get(key));
      if (!rec) continue;
      rec.pending = later.length;
      // A version counts in the timeline of the database that gave it (`origin`): one from another
      // database (after a restore) replaces hers, even when lower.
      if (r.status === 'applied' && (r.version > rec.version || (databaseId && rec.origin !== databaseId))) {
        Object.assign(rec, { version: r.version, origin: databaseId ?? rec.origin });
      }
      if (r.status === 'rejected') {
        rec.rejected = { code: r.error_code, reason: r.reason, op: m.op, changes: m.changes, at: Date.now() };
        rejected.push({ table: m.table, id: m.record_id, code: r.error_code, reason: r.reason });
      }
      if (m.op === 'delete' && r.status !== 'rejected' && r.status !== 'conflict' && !later.length) {
        s.records.delete(key);
      } else {
        s.records.put(rec);
      }
    }
    const old = IDBKeyRange.upperBound(now - SENT_RETENTION_DAYS * 86400e3);
    for (const seq of await req(s.sent.index('by_at').getAllKeys(old))) s.sent.delete(seq);
  });
  return rejected;
}

// The server answered under a database id other than the one this phone synced with: it was restored
// from a backup, and may lack what it acknowledged after that backup. In one transaction: every sent
// mutation not acknowledged by this database goes back to the outbox in its original order, marked
// with the database its base version counts in (`origin`; the server moves it onto the restored
// timeline); the synced copy is dropped (never the outbox) and the cursor with it. The records those
// mutations touch stay, as she last saw them. Returns how many mutations go again.
export async function replaySent(databaseId) {
  return tx(['sent', 'outbox', 'records', 'meta'], 'readwrite', async (s) => {
    const known = await req(s.meta.get('database_id'));
    const again = (await req(s.sent.getAll())).filter((m) => m.acked_under !== databaseId).sort(bySeq);
    for (const { acked_under: under, acked_at: _, ...m } of again) {
      s.outbox.put({ ...m, origin: m.origin ?? under, replay: true });
      s.sent.delete(m.seq);
    }
    const pending = new Map();
    for (const m of await req(s.outbox.getAll())) {
      const k = `${m.table}/${m.record_id}`;
      pending.set(k, (pending.get(k) || 0) + 1);
    }
    for (const r of await req(s.records.getAll())) {
      const n = pending.get(`${r.t}/${r.id}`) || 0;
      if (!n) s.records.delete([r.t, r.id]);
      else s.records.put({ ...r, pending: n, server: r.server ?? { ...r.row }, origin: r.origin ?? known });
    }
    s.meta.delete('cursor');
    s.meta.put(databaseId, 'database_id');
    return again.length;
  });
}

// ---- pull ---------------------------------------------------------------------------------------

// Applies one pulled page in one transaction, then stores the cursor in the same transaction: a page
// is either wholly applied with its cursor, or not at all (protocol "Pull"). A row arriving for a
// record with unsent changes becomes her new base and her changes are laid on top again; the
// mutations keep the version she started from, so the server still merges them field by field.
export async function applyPage(changes, cursor, reference, databaseId) {
  return tx(['records', 'outbox', 'meta', 'reference'], 'readwrite', async (s) => {
    const origin = databaseId ?? await req(s.meta.get('database_id'));
    for (const c of changes) {
      const key = [c.table, c.record_id];
      const [pending, rec] = await Promise.all([
        req(s.outbox.index('by_rec').getAll(key)), req(s.records.get(key)),
      ]);
      if (c.deleted) {
        if (pending.length && rec) s.records.put({ ...rec, server: null, serverDeleted: true });
        else s.records.delete(key);
        continue;
      }
      s.records.put({
        t: c.table, id: c.record_id, server: pending.length ? c.row : null, version: c.version, origin,
        row: overlay(c.row, pending),
        pending: pending.length, deleted: pending.some((m) => m.op === 'delete'),
        rejected: rec?.rejected ?? null, localAt: rec?.localAt ?? null,
      });
    }
    if (reference) {
      s.reference.put(reference.bidang, 'bidang');
      s.reference.put(reference.desa, 'desa');
    }
    if (cursor !== undefined) s.meta.put(cursor, 'cursor');
    if (databaseId) s.meta.put(databaseId, 'database_id');
  });
}

// 410 resync_required: drop every synced copy, keep the outbox and the records it changes, and pull
// from the beginning.
export async function dropSyncedCopies() {
  return tx(['records', 'meta'], 'readwrite', async (s) => {
    for (const r of await req(s.records.getAll())) {
      if (!r.pending) s.records.delete([r.t, r.id]);
    }
    s.meta.delete('cursor');
  });
}

// Wipes everything (log-out, after she has been warned about unsent data).
export async function wipe() {
  return tx(['records', 'outbox', 'meta', 'reference', 'attachments', 'sent'], 'readwrite', (s) => {
    for (const store of Object.values(s)) store.clear();
  });
}

// ---- attachments --------------------------------------------------------------------------------

export const getAttachment = (sha) => tx(['attachments'], 'readonly', (s) => req(s.attachments.get(sha)));
export const pendingAttachments = () => tx(['attachments'], 'readonly',
  (s) => req(s.attachments.index('by_uploaded').getAll(0)));
export const markUploaded = (sha) => tx(['attachments'], 'readwrite', async (s) => {
  const a = await req(s.attachments.get(sha));
  if (a) s.attachments.put({ ...a, uploaded: 1 });
});
// A photo another phone took, downloaded to be shown: kept like an uploaded one of hers.
export const cacheAttachment = (photo) => tx(['attachments'], 'readwrite', (s) => {
  s.attachments.put({ ...photo, uploaded: 1 });
});

// ---- export / import of unsent data (DESIGN §3.12) ---------------------------------------------

const blobToBase64 = (blob) => new Promise((resolve) => {
  const r = new FileReader();
  r.onload = () => resolve(String(r.result).split(',')[1]);
  r.readAsDataURL(blob);
});

// Everything not yet on the server, as one JSON-able object: mutations, the records they touch and
// photos not yet uploaded.
export async function exportUnsent() {
  const { outbox, records, photos, meta } = await tx(['outbox', 'records', 'attachments', 'meta'], 'readonly',
    async (s) => ({
      outbox: await req(s.outbox.getAll()),
      records: (await req(s.records.getAll())).filter((r) => r.pending),
      photos: await req(s.attachments.index('by_uploaded').getAll(0)),
      meta: { user: await req(s.meta.get('user')), client_id: await req(s.meta.get('client_id')) },
    }));
  const attachments = [];
  for (const p of photos) attachments.push({ sha256: p.sha256, type: p.type, data: await blobToBase64(p.blob) });
  return { kind: 'kader-unsent', format: 1, outbox_schema: OUTBOX_SCHEMA, app_version: VERSION,
    exported_at: new Date().toISOString(), user: meta.user?.username ?? null, desa: meta.user?.wilayah_code ?? null,
    from_client: meta.client_id, mutations: outbox.sort(bySeq), records, attachments };
}

// Takes back an export (on this phone or a new one). Mutations keep their ids, so any the server has
// already taken are answered again, never applied twice. Returns how many mutations were added.
export async function importUnsent(data) {
  if (!data || data.kind !== 'kader-unsent' || !Array.isArray(data.mutations)) throw new Error('not_an_export');
  if (!READS_OUTBOX.includes(data.outbox_schema)) throw new Error('unreadable_schema');
  const photos = (data.attachments || []).map((a) => {
    const bytes = Uint8Array.from(atob(a.data), (c) => c.charCodeAt(0));
    return { sha256: a.sha256, type: a.type, size: bytes.length, blob: new Blob([bytes], { type: a.type }) };
  });
  return tx(['records', 'outbox', 'meta', 'attachments'], 'readwrite', async (s) => {
    const have = new Set((await req(s.outbox.getAll())).map((m) => m.mutation_id));
    let seq = (await req(s.meta.get('seq'))) || 0;
    let added = 0;
    for (const m of data.mutations.sort(bySeq)) {
      if (have.has(m.mutation_id) || !TABLES[m.table]) continue;
      seq += 1;
      s.outbox.add({ ...m, seq, schema: OUTBOX_SCHEMA });
      added += 1;
    }
    s.meta.put(seq, 'seq');
    for (const r of data.records || []) {
      const key = [r.t, r.id];
      const rec = await req(s.records.get(key));
      const pending = await req(s.outbox.index('by_rec').getAll(key));
      const base = rec || r;
      const server = base.server ?? (base.version > 0 && !base.pending ? base.row : null);
      s.records.put({ ...base, server, row: overlay(server || { id: r.id }, pending), pending: pending.length });
    }
    for (const p of photos) {
      if (!(await req(s.attachments.get(p.sha256)))) s.attachments.put({ ...p, uploaded: 0 });
    }
    return added;
  });
}

// ---- for the service worker -----------------------------------------------------------------------

// The outbox layouts present, read without upgrading or creating the database: a new service worker
// checks them before it installs (it must never take over data it cannot read).
export function peekOutboxSchemas() {
  return new Promise((resolve) => {
    const r = indexedDB.open(NAME);
    r.onupgradeneeded = () => r.transaction.abort(); // no database yet: leave it uncreated
    r.onerror = () => resolve([]);
    r.onsuccess = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains('outbox')) { db.close(); resolve([]); return; }
      const g = db.transaction('outbox').objectStore('outbox').getAll();
      g.onsuccess = () => { db.close(); resolve([...new Set(g.result.map((m) => m.schema ?? 1))]); };
      g.onerror = () => { db.close(); resolve([]); };
    };
  });
}
