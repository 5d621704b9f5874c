// The one module that owns IndexedDB: records, reference data, the outbox, the pull cursor, settings
// and photos. Rules (DESIGN §3.2, jakearchibald/idb): upgrades are a ladder; nothing but IndexedDB
// is awaited inside a transaction (never the network); a form's record and its mutation are written
// in one transaction, so neither exists without the other.

import { OUTBOX_SCHEMA, READS_OUTBOX, REFUSED_SCHEMA, VERSION } from './shell.js';
import { REFERENCES, TABLES, uuidv7 } from './protocol.js';

const NAME = 'kader';
const DB_VERSION = 3;
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

function upgrade(db, oldVersion, t) {
  if (oldVersion < 1) {
    // records: {t, id, row (what the cadre sees: server row + her pending changes), server (the last
    // row pulled, kept only while she has pending changes: otherwise it equals `row`, and a list of
    // 10,000 must not read everything twice), version (server version she started from, 0 = never
    // on the server), onServer (the server took its create, before any version came back), pending,
    // deleted, refused (a copy of the refusal of one of its mutations, for lists; the outbox decides)}
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
  if (oldVersion < 3) refuseAgain(t);
  // if (oldVersion < 4) { … } — later versions go here, one rung each; never edit a rung above.
}

// Versions before 3 dropped a refused mutation from the outbox and kept its changes on the record
// (`rejected`) only until the next save. Each becomes a refused mutation again, so the update loses
// nothing she typed: a record the server never took as a create of its whole row; an edit with the
// changes refused and those still queued behind it, on the oldest version they started from. A line
// refused only because the record it names was not on the server yet (`invalid_reference`, the
// record is on this phone) is not refused at all: it goes once that record is taken.
function refuseAgain(t) {
  const records = t.objectStore('records');
  const outbox = t.objectStore('outbox');
  const meta = t.objectStore('meta');
  records.getAll().onsuccess = (r1) => outbox.getAll().onsuccess = (r2) => meta.get('seq').onsuccess = (r3) => {
    const all = r1.target.result;
    const box = r2.target.result;
    const here = new Set(all.map((r) => `${r.t}/${r.id}`));
    let seq = Math.max(r3.target.result || 0, ...box.map((m) => m.seq));
    for (const rec of all) {
      const old = rec.rejected;
      delete rec.rejected;
      if (!old) continue;
      const own = box.filter((m) => m.table === rec.t && m.record_id === rec.id).sort(bySeq);
      if (!(rec.version > 0) && rec.deleted) { // made and deleted here: nothing of it to keep
        for (const x of own) outbox.delete(x.seq);
        records.delete([rec.t, rec.id]);
        continue;
      }
      const edits = own.filter((m) => m.op !== 'delete');
      const origin = rec.origin ?? own[0]?.origin ?? null;
      let m;
      if (!(rec.version > 0)) {
        m = { op: 'create', base_version: 0, changes: writable(rec.t, rec.row) };
      } else if (old.op === 'delete') {
        m = { op: 'delete', base_version: rec.version, changes: {} };
      } else {
        m = { op: 'update', base_version: Math.min(rec.version, ...edits.map((x) => x.base_version)),
          changes: Object.assign({}, old.changes, ...edits.map((x) => x.changes)) };
        if (!rec.server) rec.server = { ...rec.row };
        rec.row = { ...rec.row, ...m.changes };
      }
      if (m.op !== 'delete') for (const x of edits) outbox.delete(x.seq); // folded into this one
      const refusal = { code: old.code || 'unknown', ...readOldReason(old.code, old.reason), reason: old.reason ?? null,
        at: old.at ?? Date.now() };
      const named = refusal.code === 'invalid_reference' && refusal.field && m.changes[refusal.field];
      const waits = named && (here.has(`${REFERENCES[rec.t]?.[refusal.field]}/${named}`)
        || (refusal.field === 'record_id' && here.has(`${m.changes.record_table}/${named}`)));
      seq += 1;
      outbox.add({ ...m, seq, mutation_id: uuidv7(), table: rec.t, record_id: rec.id, origin,
        schema: waits ? OUTBOX_SCHEMA : REFUSED_SCHEMA, ...(waits ? {} : { refused: refusal }), at: old.at ?? Date.now() });
      rec.pending = own.length - (m.op !== 'delete' ? edits.length : 0) + 1;
      rec.refused = waits ? null : refusal;
      records.put(rec);
    }
    meta.put(seq, 'seq');
  };
}

// The field and problem of an old refusal, from the server's English (versions before 3 kept no more).
function readOldReason(code, reason) {
  const text = String(reason || '');
  const at = /at `\$\.(\w+)/.exec(text) || /unknown field `(\w+)`/.exec(text) || /^(\w+): /.exec(text);
  if (!at) return { field: null, problem: null };
  if (code !== 'invalid_fields') return { field: at[1], problem: null };
  const problem = /unknown field/.test(text) ? 'unknown' : /length >=|got `null`/.test(text) ? 'required'
    : /length <=/.test(text) ? 'too_long' : /Expected `(int|float)[^`]*` [<>]=/.test(text) ? 'range' : 'type';
  return { field: at[1], problem };
}

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const r = indexedDB.open(NAME, DB_VERSION);
      r.onupgradeneeded = (e) => upgrade(r.result, e.oldVersion, r.transaction);
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
// Saving a record the server refused is her fix (or her word that it is right): what is unsent of it
// goes again as one new mutation, even with no change (see `foldRefused`).
export async function saveRecord(table, id, changes, attachments = []) {
  return tx(['records', 'outbox', 'meta', 'attachments'], 'readwrite', async (s) => {
    const rec = await req(s.records.get([table, id]));
    const queued = rec ? await req(s.outbox.index('by_rec').getAll([table, id])) : [];
    const seq = ((await req(s.meta.get('seq'))) || 0) + 1;
    s.meta.put(seq, 'seq');
    const next = rec || { t: table, id, server: null, version: 0, pending: 0, row: { id } };
    if (next.version > 0 && !next.pending && !next.server) next.server = { ...next.row }; // her base
    next.row = { ...next.row, ...changes };
    const origin = next.origin ?? await req(s.meta.get('database_id'));
    let m;
    if (queued.some((x) => x.refused)) {
      m = foldRefused(s, next, queued, changes, seq, origin);
    } else {
      const known = rec && (rec.version > 0 || rec.onServer || rec.pending > 0);
      const op = known ? 'update' : 'create';
      m = { seq, mutation_id: uuidv7(), table, record_id: id, op, base_version: next.version, origin,
        changes: op === 'create' ? writable(table, next.row) : changes, schema: OUTBOX_SCHEMA, at: Date.now() };
      next.pending += 1;
    }
    s.outbox.add(m);
    next.localAt = Date.now();
    s.records.put(next);
    for (const a of attachments) s.attachments.put({ ...a, uploaded: 0 });
    return m;
  });
}

// Her save of a refused record: the refused mutation and every edit queued behind it become one
// mutation with a new id (the old id has its answer on the server, which would only be given again):
// a record the server never took goes as a create of its whole row; an edit as the sum of the edits,
// on the oldest version they started from (whatever changed since is merged, or a conflict, never
// overwritten). A queued delete stays queued behind it.
function foldRefused(s, rec, queued, changes, seq, origin) {
  const edits = queued.filter((x) => x.op !== 'delete').sort(bySeq);
  for (const x of edits) s.outbox.delete(x.seq);
  rec.pending = queued.length - edits.length + 1;
  rec.refused = null;
  const created = !(rec.version > 0 || rec.onServer);
  return { seq, mutation_id: uuidv7(), table: rec.t, record_id: rec.id, op: created ? 'create' : 'update',
    base_version: created ? 0 : Math.min(rec.version, ...edits.map((x) => x.base_version)),
    origin: edits[0]?.origin ?? origin,
    changes: created ? writable(rec.t, rec.row) : Object.assign({}, ...edits.map((x) => x.changes), changes),
    schema: OUTBOX_SCHEMA, at: Date.now() };
}

// "Kirim lagi" on a refused record she has nothing to change in: the same as saving it unchanged; a
// refused delete goes again as it was, with a new id.
export async function resendRefused(table, id) {
  const rec = await getRecord(table, id);
  if (!rec?.deleted) return saveRecord(table, id, {});
  return tx(['records', 'outbox'], 'readwrite', async (s) => {
    for (const x of await req(s.outbox.index('by_rec').getAll([table, id]))) {
      if (!x.refused) continue;
      const { refused: _, ...again } = x;
      s.outbox.put({ ...again, mutation_id: uuidv7(), schema: OUTBOX_SCHEMA });
    }
    s.records.put({ ...rec, refused: null });
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
    // A record whose create the server refused is on this phone only: deleting it needs no message.
    const queued = await req(s.outbox.index('by_rec').getAll([table, id]));
    if (!onServer(rec) && queued.some((m) => m.op === 'create' && m.refused)) {
      for (const m of queued) s.outbox.delete(m.seq);
      s.records.delete([table, id]);
      return null;
    }
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

// ---- what the outbox holds: ready, waiting, refused, held -----------------------------------------

const keyOf = (table, id) => `${table}/${id}`;

// The records a mutation names (protocol.js REFERENCES), as keys; a komentar names its record by
// record_table and record_id.
function named(m, rec) {
  const out = [];
  for (const [field, target] of Object.entries(REFERENCES[m.table] || {})) {
    const id = m.changes?.[field];
    const table = target ?? m.changes?.record_table ?? rec?.row?.record_table;
    if (typeof id === 'string' && id && table) out.push(keyOf(table, id));
  }
  return out;
}

// Whether the server has the record: a version from it, or an answer that took its create.
const onServer = (rec) => !rec || rec.version > 0 || !!rec.onServer;

// Sorts the outbox out (pure: `mutations` is the whole outbox, `recordOf(key)` a stored record).
// Every record with unsent mutations gets a state:
//   refused: one of its mutations was refused; nothing of it goes until she fixes or discards it;
//   held:    it names a record the server does not have that is refused or itself held (`root`: the
//            refused record at the end of that chain; `parent`: the one it names);
//   waiting: it names a record the server does not have yet, which goes first (an earlier round);
//   ready:   its oldest mutation can go now.
// A record not on this phone is the server's business: what names it is sent, and the server answers.
export function planOutbox(mutations, recordOf) {
  const byKey = new Map();
  for (const m of [...mutations].sort(bySeq)) {
    const k = keyOf(m.table, m.record_id);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k).push(m);
  }
  const states = new Map();
  const visit = (k, path) => {
    if (states.has(k)) return states.get(k);
    const list = byKey.get(k);
    let st = { state: 'ready' };
    if (list.some((m) => m.refused)) {
      st = { state: 'refused', root: k };
    } else {
      path.add(k);
      for (const pk of new Set(list.flatMap((m) => named(m, recordOf(k))))) {
        const parent = recordOf(pk);
        if (onServer(parent) || path.has(pk)) continue;
        const ps = byKey.has(pk) ? visit(pk, path) : { state: 'held', root: pk };
        if (ps.state === 'refused' || ps.state === 'held') { st = { state: 'held', root: ps.root, parent: pk }; break; }
        st = { state: 'waiting', parent: pk };
      }
      path.delete(k);
    }
    states.set(k, st);
    return st;
  };
  for (const k of byKey.keys()) visit(k, new Set());
  return { byKey, states };
}

// The outbox and the records it needs to be sorted out, read in one transaction.
async function readPlan(s) {
  const mutations = await req(s.outbox.getAll());
  const keys = new Set();
  for (const m of mutations) keys.add(keyOf(m.table, m.record_id));
  const records = new Map();
  const load = async (k) => {
    if (records.has(k)) return;
    const cut = k.indexOf('/');
    records.set(k, await req(s.records.get([k.slice(0, cut), k.slice(cut + 1)])));
  };
  for (const k of keys) await load(k);
  for (const m of mutations) for (const k of named(m, records.get(keyOf(m.table, m.record_id)))) await load(k);
  return { mutations, records, ...planOutbox(mutations, (k) => records.get(k)) };
}

// The next batch to push: in the order made, at most one mutation per record, and only of records
// that are ready (above). The server merges against the version a mutation names, so a second edit
// of one record waits for the first's answer (applyResults moves it onto the new version) or it would
// conflict with itself; a line of a meeting the server has not taken yet waits for the next round.
export async function nextBatch(limit) {
  const { byKey, states } = await tx(['outbox', 'records'], 'readonly', readPlan);
  const batch = [...byKey].filter(([k]) => states.get(k).state === 'ready').map(([, list]) => list[0]).sort(bySeq);
  return batch.slice(0, limit);
}

// What the outbox holds, for the status bar, home and the list of what needs her: every unsent
// mutation (`total`), the refused records, the held ones (with what they wait for) and the photos
// held with them, and how many of each. Kept until something writes (the status bar asks often).
let stateCache = null;
export function outboxState() {
  if (stateCache?.generation !== generation) {
    stateCache = { generation, reading: readOutboxState() };
    stateCache.reading.catch(() => { stateCache = null; });
  }
  return stateCache.reading;
}

async function readOutboxState() {
  const { mutations, records, byKey, states, photos } = await tx(['outbox', 'records', 'attachments'], 'readonly',
    async (s) => ({ ...await readPlan(s), photos: await req(s.attachments.index('by_uploaded').getAllKeys(0)) }));
  const refused = [];
  const held = [];
  const sendable = [];
  for (const [k, list] of byKey) {
    const st = states.get(k);
    const rec = records.get(k);
    const item = { key: k, table: list[0].table, id: list[0].record_id, rec, mutations: list.length };
    if (st.state === 'refused') refused.push({ ...item, refusal: list.find((m) => m.refused).refused });
    else if (st.state === 'held') held.push({ ...item, root: st.root, parent: st.parent });
    else sendable.push(item);
  }
  // A photo goes after the mutation naming it is taken: held while that one is refused or held.
  const heldPhotos = [];
  const namers = new Map();
  for (const m of mutations) for (const sha of m.changes?.foto || []) namers.set(sha, keyOf(m.table, m.record_id));
  for (const sha of photos) {
    const st = namers.has(sha) ? states.get(namers.get(sha)) : null;
    if (st?.state === 'refused' || st?.state === 'held') heldPhotos.push({ sha256: sha, root: st.root, key: namers.get(sha) });
  }
  return { total: mutations.length, photos: photos.length, refused, held, heldPhotos, sendable,
    counts: { refused: refused.length, held: held.length + heldPhotos.length,
      sendable: sendable.reduce((n, x) => n + x.mutations, 0) } };
}

// Applies a push answer (protocol "Push", the status table). A taken mutation leaves the outbox and
// is kept in `sent` (with the database id that took it) in case of a restore. A refused one stays,
// marked refused (layout 2), with the record: nothing she typed is dropped, and nothing of that
// record goes again until she fixes it or discards it (saveRecord, discardRefused).
export async function applyResults(batch, results, databaseId) {
  const bySeen = new Map(batch.map((m) => [m.mutation_id, m]));
  const refused = [];
  await tx(['records', 'outbox', 'sent'], 'readwrite', async (s) => {
    const now = Date.now();
    for (const r of results) {
      const m = bySeen.get(r.mutation_id);
      if (!m) continue;
      const key = [m.table, m.record_id];
      const rec = await req(s.records.get(key));
      if (r.status === 'rejected') {
        const refusal = { code: r.error_code || 'unknown', field: r.field ?? null, problem: r.problem ?? null,
          reason: r.reason ?? null, at: now };
        s.outbox.put({ ...m, refused: refusal, schema: REFUSED_SCHEMA });
        if (rec) s.records.put({ ...rec, refused: refusal });
        refused.push({ table: m.table, id: m.record_id, ...refusal });
        continue;
      }
      s.outbox.delete(m.seq);
      s.sent.put({ ...m, acked_under: databaseId, acked_at: now });
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
      if (!rec) continue;
      rec.pending = later.length;
      rec.onServer = true; // taken: what names it may go now, even before a version comes back
      // A version counts in the timeline of the database that gave it (`origin`): one from another
      // database (after a restore) replaces hers, even when lower.
      if (r.status === 'applied' && (r.version > rec.version || (databaseId && rec.origin !== databaseId))) {
        Object.assign(rec, { version: r.version, origin: databaseId ?? rec.origin });
      }
      if (m.op === 'delete' && r.status !== 'conflict' && !later.length) {
        s.records.delete(key);
      } else {
        s.records.put(rec);
      }
    }
    const old = IDBKeyRange.upperBound(now - SENT_RETENTION_DAYS * 86400e3);
    for (const seq of await req(s.sent.index('by_at').getAllKeys(old))) s.sent.delete(seq);
  });
  return refused;
}

// What discarding a refused record takes with it, so she is told before (`dryRun`), and then does it,
// in one transaction. Her unsent changes of the record go; a record the server never took goes
// whole, with everything on this phone that waits for it: lines, usulan and comments never sent are
// dropped, and queued edits of records the server has that name it; photos named by nothing left go
// too. A record the server has is shown again as the server has it.
export async function discardRefused(table, id, dryRun = false) {
  return tx(['records', 'outbox', 'attachments'], dryRun ? 'readonly' : 'readwrite', async (s) => {
    const { mutations, records, byKey } = await readPlan(s);
    const k = keyOf(table, id);
    const rec = records.get(k);
    const gone = new Set(); // records removed from this phone
    const dropped = new Set(); // seqs of mutations removed
    for (const m of byKey.get(k) || []) dropped.add(m.seq);
    if (rec && !onServer(rec)) {
      gone.add(k);
      // Whatever names a removed record, over and over until nothing more does.
      for (let more = true; more;) {
        more = false;
        for (const m of mutations) {
          const mk = keyOf(m.table, m.record_id);
          if (dropped.has(m.seq) || !named(m, records.get(mk)).some((n) => gone.has(n))) continue;
          if (!onServer(records.get(mk))) {
            if (!gone.has(mk)) { gone.add(mk); more = true; }
            for (const x of byKey.get(mk)) dropped.add(x.seq);
          } else {
            dropped.add(m.seq);
          }
        }
      }
    }
    const counts = {};
    for (const g of gone) if (g !== k) { const t = g.slice(0, g.indexOf('/')); counts[t] = (counts[t] || 0) + 1; }
    const kept = mutations.filter((m) => !dropped.has(m.seq));
    const stillNamed = new Set(kept.flatMap((m) => m.changes?.foto || []));
    for (const r of await req(s.records.index('by_t').getAll('musyawarah'))) {
      if (!gone.has(keyOf(r.t, r.id))) for (const sha of (r.server ?? r.row)?.foto || []) stillNamed.add(sha);
    }
    const photos = (await req(s.attachments.index('by_uploaded').getAllKeys(0))).filter((sha) => !stillNamed.has(sha));
    const edits = mutations.filter((m) => dropped.has(m.seq) && !gone.has(keyOf(m.table, m.record_id))
      && keyOf(m.table, m.record_id) !== k).length;
    // records: {table: n} removed with it; edits: queued changes of other records dropped; whole: the
    // record itself goes (the server never took it) rather than back to the server's copy.
    const plan = { records: counts, edits, photos: photos.length, whole: gone.has(k) };
    if (dryRun) return plan;
    for (const seq of dropped) s.outbox.delete(seq);
    for (const g of gone) { const cut = g.indexOf('/'); s.records.delete([g.slice(0, cut), g.slice(cut + 1)]); }
    for (const sha of photos) s.attachments.delete(sha);
    // Records that keep some (or none) of their queued mutations: shown as the server has them, with
    // what is left laid on top.
    const touched = new Set(mutations.filter((m) => dropped.has(m.seq)).map((m) => keyOf(m.table, m.record_id)));
    for (const t of touched) {
      if (gone.has(t)) continue;
      const r = records.get(t);
      if (!r) continue;
      const left = kept.filter((m) => keyOf(m.table, m.record_id) === t);
      if (!left.length && r.serverDeleted) { s.records.delete([r.t, r.id]); continue; }
      const base = r.server ?? r.row;
      s.records.put({ ...r, row: overlay(base, left), server: left.length ? base : null, pending: left.length,
        deleted: left.some((m) => m.op === 'delete'), refused: left.find((m) => m.refused)?.refused ?? null });
    }
    return plan;
  });
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
        refused: pending.find((m) => m.refused)?.refused ?? null, localAt: rec?.localAt ?? null,
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
// The photos to upload now: not uploaded, and named by no mutation still in the outbox (a photo goes
// after the record naming it is taken; one of a refused record waits for her fix, or goes with it).
export const uploadableAttachments = () => tx(['attachments', 'outbox'], 'readonly', async (s) => {
  const waiting = new Set((await req(s.outbox.getAll())).flatMap((m) => m.changes?.foto || []));
  return (await req(s.attachments.index('by_uploaded').getAll(0))).filter((p) => !waiting.has(p.sha256));
});
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
  // The newest layout present: an app that cannot read a refused mutation must not take the file.
  const layout = Math.max(OUTBOX_SCHEMA, ...outbox.map((m) => m.schema ?? 1));
  return { kind: 'kader-unsent', format: 1, outbox_schema: layout, app_version: VERSION,
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
      s.outbox.add({ ...m, seq, schema: m.refused ? REFUSED_SCHEMA : OUTBOX_SCHEMA });
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
