/**
 * Issuing seals and checking the log against one (lib/integrity/seal.ts holds the format). Works
 * through the event store port (readAll in log order), so on both backends; the access log is a
 * PostgreSQL table in either case. Issued seals are kept in integrity_seals (their signature, not the
 * database, protects them); a new seal extends the latest stored one whose signature holds, so a
 * scheduled seal reads only the events appended since.
 */
import type { KeyObject } from 'node:crypto';
import type postgres from 'postgres';
import { comparePositions, decodePosition, encodePosition, type EventStore, type Position } from '../eventstore';
import { canonicalJson } from '../eventstore/hash-chain';
import { accessLogHeadOf, accessRows, type AccessRowRecord, type AnySql as Sql } from './access-chain';
import {
  accessLeaf,
  checkSealFile,
  DEFAULT_SEGMENT_SIZE,
  eventLeaf,
  publicKeyFromBase64,
  SEAL_FORMAT,
  SealComparer,
  sealKeyId,
  sealPrivateKey,
  sealPublicKeyBase64,
  SealedLogBuilder,
  signSeal,
  type LogComparison,
  type SealBody,
  type SealCheck,
  type SealFile,
} from './seal';

export interface SealKeys {
  /** The signing key (SEAL_SIGNING_KEY). */
  signing: KeyObject;
  /** Public keys whose seals are accepted: the signing key's, then earlier ones (SEAL_PREVIOUS_PUBLIC_KEYS). */
  trusted: KeyObject[];
}

/** SEAL_SIGNING_KEY (base64 of a 32-byte seed) and SEAL_PREVIOUS_PUBLIC_KEYS (comma-separated SPKI base64). */
export function sealKeysFromEnv(env: NodeJS.ProcessEnv = process.env): SealKeys {
  const seed = env.SEAL_SIGNING_KEY;
  if (!seed?.trim()) throw new Error('SEAL_SIGNING_KEY is not set: seals cannot be signed or checked');
  const signing = sealPrivateKey(seed);
  const previous = (env.SEAL_PREVIOUS_PUBLIC_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean).map(publicKeyFromBase64);
  return { signing, trusted: [signing, ...previous] };
}

export function publicKeyInfo(keys: SealKeys): { keyId: string; publicKey: string } {
  const publicKey = sealPublicKeyBase64(keys.signing);
  return { keyId: sealKeyId(publicKey), publicKey };
}


const PAGE = 2000;

/** Every event after `after` (exclusive) in log order, page by page, through the port. */
export async function walkLog(
  store: EventStore,
  after: Position | null,
  visit: (position: string, event: { streamId: string; revision: number; eventId: string; hash: string }) => void,
  options: { signal?: AbortSignal; onProgress?: (count: number) => void } = {},
): Promise<number> {
  let from: Position | 'start' = after ?? 'start';
  let count = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const page = await store.readAll({ fromPosition: from, maxCount: PAGE + 1 });
    let fresh = 0;
    for (const e of page) {
      // readAll is inclusive: the page starts with the event it was asked from.
      if (from !== 'start' && comparePositions(e.position, from) <= 0) continue;
      fresh++;
      count++;
      const hash = typeof e.metadata.integrity?.hash === 'string' ? e.metadata.integrity.hash : '';
      visit(encodePosition(e.position), { streamId: e.streamId, revision: e.revision, eventId: e.eventId, hash });
    }
    options.onProgress?.(count);
    if (page.length === 0 || fresh === 0) return count;
    from = page[page.length - 1]!.position;
  }
}

/** A row's leaf: its hash, or for a row from before the chain its canonical content. */
export function accessRowLeaf(row: AccessRowRecord): Buffer {
  return accessLeaf(row.id, row.hash ?? canonicalJson({ ...row, occurredAt: row.occurredAt.toISOString(), patientIds: [...row.patientIds] }));
}

export const compareEventPositions = (a: string, b: string): number => comparePositions(decodePosition(a), decodePosition(b));
export const compareAccessIds = (a: string, b: string): number => Number(a) - Number(b);

export interface StoredSeal {
  id: number;
  issuedAt: Date;
  eventCount: number;
  accessLogCount: number;
  keyId: string;
  issuedBy: string;
}

/** The latest stored seal that is intact (signature holds under a trusted key), to extend. */
async function latestIntactSeal(sql: Sql, keys: SealKeys): Promise<SealBody | null> {
  const rows = await sql<{ body: string; signature: string }[]>`select body, signature from integrity_seals order by id desc limit 5`;
  for (const row of rows) {
    let body: SealBody;
    try {
      body = JSON.parse(row.body) as SealBody;
    } catch {
      continue;
    }
    if (checkSealFile({ seal: body, signature: row.signature, publicKey: '' }, keys.trusted).ok) return body;
  }
  return null;
}

/**
 * Seals the whole log now: extends the latest intact seal (or starts from nothing), signs, stores.
 * `issuedBy`: 'schedule' or the requesting account's id.
 */
export async function issueSeal(
  deps: { store: EventStore; sql: postgres.Sql; keys: SealKeys; segmentSize?: number },
  issuedBy: string,
): Promise<{ id: number; file: SealFile }> {
  const segmentSize = deps.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  const previous = await latestIntactSeal(deps.sql, deps.keys);
  const base = previous && previous.segmentSize === segmentSize ? previous : null;
  const events = new SealedLogBuilder(segmentSize, base?.events);
  await walkLog(deps.store, base?.events.last ? decodePosition(base.events.last) : null, (position, e) => events.add(position, eventLeaf(e.streamId, e.revision, e.eventId, e.hash)));

  const access = new SealedLogBuilder(segmentSize, base?.accessLog);
  await deps.sql.begin('isolation level repeatable read read only', async (tx) => {
    const head = await accessLogHeadOf(tx);
    // Up to the head: every row at or below it is committed (rows are chained one at a time under its lock).
    for await (const batch of accessRows(tx, { afterId: base?.accessLog.last ? Number(base.accessLog.last) : 0, lastId: head?.lastId ?? 0 })) {
      for (const row of batch) access.add(String(row.id), accessRowLeaf(row));
    }
  });

  const { keyId } = publicKeyInfo(deps.keys);
  const body: SealBody = {
    format: SEAL_FORMAT,
    issuedAt: new Date().toISOString(),
    backend: deps.store.backend,
    keyId,
    segmentSize,
    events: events.finish(),
    accessLog: access.finish(),
  };
  const file = signSeal(body, deps.keys.signing);
  const [row] = await deps.sql<{ id: string }[]>`
    insert into integrity_seals (issued_at, event_count, access_log_count, key_id, body, signature, issued_by)
    values (${body.issuedAt}, ${body.events.count}, ${body.accessLog.count}, ${keyId}, ${canonicalJson(body)}, ${file.signature}, ${issuedBy})
    returning id::text`;
  return { id: Number(row!.id), file };
}

export async function listSeals(sql: Sql, limit = 50): Promise<StoredSeal[]> {
  const rows = await sql<{ id: string; issued_at: Date | string; event_count: string; access_log_count: string; key_id: string; issued_by: string }[]>`
    select id::text, issued_at, event_count::text, access_log_count::text, key_id, issued_by from integrity_seals s order by s.id desc limit ${limit}`;
  return rows.map((r) => ({ id: Number(r.id), issuedAt: new Date(r.issued_at), eventCount: Number(r.event_count), accessLogCount: Number(r.access_log_count), keyId: r.key_id, issuedBy: r.issued_by }));
}

/** A stored seal as the file an auditor downloads; null when there is no such seal. */
export async function sealFileOf(sql: Sql, id: number): Promise<SealFile | null> {
  const [row] = await sql<{ body: string; signature: string }[]>`select body, signature from integrity_seals where id = ${id}`;
  if (!row) return null;
  const body = JSON.parse(row.body) as SealBody;
  return { seal: body, signature: row.signature, publicKey: '' };
}

export interface SealVerification {
  check: SealCheck;
  issuedAt?: string;
  events?: LogComparison;
  accessLog?: LogComparison;
}

/** Starts comparing the log with a seal file: null comparers when the seal itself does not hold. */
export function sealComparers(file: unknown, keys: SealKeys): { check: SealCheck; body?: SealBody; events?: SealComparer; accessLog?: SealComparer } {
  const check = checkSealFile(file, keys.trusted);
  if (!check.ok) return { check };
  const body = (file as SealFile).seal;
  return {
    check,
    body,
    events: new SealComparer('events', body.events, compareEventPositions),
    accessLog: new SealComparer('accessLog', body.accessLog, compareAccessIds),
  };
}

/** The log's events against a seal (the access log is compared in the same pass as its chain check). */
export async function compareEventsWithSeal(store: EventStore, comparer: SealComparer, options: { signal?: AbortSignal; onProgress?: (count: number) => void } = {}): Promise<LogComparison> {
  await walkLog(store, null, (position, e) => comparer.add(position, eventLeaf(e.streamId, e.revision, e.eventId, e.hash)), options);
  return comparer.finish();
}
