/**
 * The access log's hash chain (issue 10 item 4; PIPA Standards Art. 8: access records protected
 * against alteration). Each access_log row carries `prev_hash` (the previous row's hash) and `hash`,
 * an HMAC-SHA-256 over the row's canonical JSON and prev_hash, keyed with a key derived from
 * EVENT_HMAC_KEY (so the database, which never holds that key, cannot recompute a chain after
 * changing a row). Rows are chained in id order: every insert locks the one head row
 * (access_log_head, FOR UPDATE), takes its id from the sequence after the lock, inserts, and moves
 * the head, all in one transaction, so concurrent inserts chain one after the other and the head
 * names the last row (a removed tail no longer matches it). docs/eventstore.md, "Seals".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql as dsql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { DbOrTx } from '../db/client';
import { accessLog, accessLogHead, type AccessLogAction } from '../db/schema';
import { canonicalJson, toStoredJson } from '../eventstore/hash-chain';

/** The pool or a transaction on it. */
export type AnySql = postgres.Sql | postgres.TransactionSql;

/** The fields of a row the chain covers (with its id and time, both fixed before hashing). */
export interface AccessRowContent {
  id: number;
  occurredAt: Date;
  accountId: string;
  role: string;
  clinicId: string | null;
  ip: string | null;
  userAgent: string | null;
  action: AccessLogAction | string;
  resource: string;
  patientIds: readonly string[];
  reason: string | null;
  detail: Record<string, unknown> | null;
}

/** The chain's key: derived from an event HMAC key, so both chains rotate together but never share inputs. */
export function accessChainKey(eventHmacKey: string | Buffer): Buffer {
  return createHmac('sha256', eventHmacKey).update('yeyak access-log chain v1', 'utf8').digest();
}

/** The key(s) of this process: EVENT_HMAC_KEY first, then EVENT_HMAC_PREVIOUS_KEYS (after a rotation). */
export function accessChainKeysFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer[] {
  const current = env.EVENT_HMAC_KEY;
  if (!current || Buffer.byteLength(current, 'utf8') < 16) throw new Error('EVENT_HMAC_KEY is not set: the access log cannot be chained');
  const previous = (env.EVENT_HMAC_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  return [current, ...previous].map(accessChainKey);
}

export function accessRowHash(key: Buffer, row: AccessRowContent, prevHash: string | null): string {
  const payload = canonicalJson({
    v: 1,
    prevHash,
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    accountId: row.accountId,
    role: row.role,
    clinicId: row.clinicId,
    ip: row.ip,
    userAgent: row.userAgent,
    action: row.action,
    resource: row.resource,
    patientIds: [...row.patientIds],
    reason: row.reason,
    detail: row.detail === null ? null : toStoredJson(row.detail),
  });
  return createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
}

/** Inserts one access-log row chained to the head, in a transaction of its own (or the caller's). */
export async function appendChainedAccessRow(db: DbOrTx, key: Buffer, row: Omit<AccessRowContent, 'id' | 'occurredAt'>): Promise<{ id: number }> {
  return db.transaction(async (tx) => {
    // MATERIALIZED: the id is drawn only once the head row is locked, so ids follow the chain's order.
    const [head] = (await tx.execute(dsql`
      with h as materialized (select last_hash from access_log_head where singleton for update)
      select h.last_hash, nextval(pg_get_serial_sequence('access_log', 'id'))::text as id from h`)) as unknown as Array<{ last_hash: string | null; id: string }>;
    if (!head) throw new Error('access log: the chain head row is missing (migration 0020)');
    const content: AccessRowContent = { ...row, id: Number(head.id), occurredAt: new Date() };
    const hash = accessRowHash(key, content, head.last_hash);
    await tx.insert(accessLog).values({
      id: content.id,
      occurredAt: content.occurredAt,
      accountId: content.accountId,
      role: content.role,
      clinicId: content.clinicId,
      ip: content.ip,
      userAgent: content.userAgent,
      action: content.action as AccessLogAction,
      resource: content.resource,
      patientIds: [...content.patientIds],
      reason: content.reason,
      detail: content.detail,
      prevHash: head.last_hash,
      hash,
    });
    await tx.update(accessLogHead).set({ lastId: content.id, lastHash: hash }).where(dsql`singleton`);
    return { id: content.id };
  });
}

export interface AccessBrokenLink {
  /** The row where the chain breaks (for a removed tail: the head's last id). */
  id: number;
  problem: 'hash-mismatch' | 'previous-hash-mismatch' | 'unchained-row' | 'head-mismatch';
  expected: string;
  found: string;
}

export interface AccessVerifyResult {
  ok: boolean;
  rowsChecked: number;
  /** Rows from before the chain existed (no hash), at the start of the log: counted, not verifiable without a seal. */
  unchainedRows: number;
  firstBroken: AccessBrokenLink | null;
}

export interface AccessRowRecord extends AccessRowContent {
  prevHash: string | null;
  hash: string | null;
}

interface AccessRowDb {
  id: string;
  occurred_at: Date | string;
  account_id: string;
  role: string;
  clinic_id: string | null;
  ip: string | null;
  user_agent: string | null;
  action: string;
  resource: string;
  patient_ids: string[];
  reason: string | null;
  detail: Record<string, unknown> | null;
  prev_hash: string | null;
  hash: string | null;
}

function toRecord(r: AccessRowDb): AccessRowRecord {
  return {
    id: Number(r.id),
    occurredAt: new Date(r.occurred_at),
    accountId: r.account_id,
    role: r.role,
    clinicId: r.clinic_id,
    ip: r.ip,
    userAgent: r.user_agent,
    action: r.action,
    resource: r.resource,
    patientIds: r.patient_ids,
    reason: r.reason,
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The access log in id order, in pages (a cursor: never the whole table in memory), up to `lastId` if given. */
export async function* accessRows(sql: AnySql, options: { afterId?: number; lastId?: number; batch?: number } = {}): AsyncGenerator<AccessRowRecord[]> {
  const query = sql<AccessRowDb[]>`
    select id::text, occurred_at, account_id::text, role, clinic_id, ip, user_agent, action, resource, patient_ids, reason, detail, prev_hash, hash
    from access_log a where a.id > ${options.afterId ?? 0} ${options.lastId === undefined ? sql`` : sql`and a.id <= ${options.lastId}`} order by a.id`;
  for await (const batch of query.cursor(options.batch ?? 1000)) yield batch.map(toRecord);
}

export async function accessLogHeadOf(sql: AnySql): Promise<{ lastId: number; lastHash: string | null } | null> {
  const [row] = await sql<{ last_id: string; last_hash: string | null }[]>`select last_id::text, last_hash from access_log_head where singleton`;
  return row ? { lastId: Number(row.last_id), lastHash: row.last_hash } : null;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Incremental verifier: feed rows in id order. */
export class AccessChainVerifier {
  private previousHash: string | null = null;
  private chained = false;
  rowsChecked = 0;
  unchainedRows = 0;
  constructor(private readonly keys: readonly Buffer[]) {}

  check(row: AccessRowRecord): AccessBrokenLink | null {
    this.rowsChecked++;
    if (row.hash === null) {
      // Rows from before migration 0020 lead the log; a row without a hash after the chain began was written around it.
      if (!this.chained) {
        this.unchainedRows++;
        return null;
      }
      return { id: row.id, problem: 'unchained-row', expected: 'a hash (the chain had begun)', found: 'no hash' };
    }
    const expectedPrev = this.chained ? this.previousHash : null;
    if ((row.prevHash ?? null) !== expectedPrev) {
      return { id: row.id, problem: 'previous-hash-mismatch', expected: String(expectedPrev), found: String(row.prevHash) };
    }
    let recomputed = '';
    for (const key of this.keys) {
      recomputed = accessRowHash(key, row, row.prevHash);
      if (same(recomputed, row.hash)) {
        this.chained = true;
        this.previousHash = row.hash;
        return null;
      }
    }
    return { id: row.id, problem: 'hash-mismatch', expected: recomputed, found: row.hash };
  }

  /** After the last row: does the head row name where the chain ended? */
  checkHead(head: { lastId: number; lastHash: string | null } | null, lastId: number | null): AccessBrokenLink | null {
    if (!head) return { id: 0, problem: 'head-mismatch', expected: 'the access_log_head row', found: 'no head row' };
    if (!this.chained && head.lastHash === null) return null;
    if (head.lastId === lastId && head.lastHash !== null && this.previousHash !== null && same(head.lastHash, this.previousHash)) return null;
    return {
      id: head.lastId,
      problem: 'head-mismatch',
      expected: `head: row ${head.lastId} with hash ${String(head.lastHash)}`,
      found: `chain ends at row ${String(lastId)} with hash ${String(this.previousHash)}`,
    };
  }
}

export interface WalkOptions {
  onProgress?: (rowsChecked: number) => void;
  signal?: AbortSignal;
  /** Each row as it is checked (the seal comparison reads the same pass). */
  onRow?: (row: AccessRowRecord) => void;
}

/**
 * Verifies the whole access log against its chain and head, head and rows read in one snapshot
 * (REPEATABLE READ, read only: no transaction id, so it holds back no event-store reader).
 */
export async function verifyAccessLog(sql: postgres.Sql, keys: readonly Buffer[], options: WalkOptions = {}): Promise<AccessVerifyResult> {
  return (await sql.begin('isolation level repeatable read read only', async (tx) => {
    const head = await accessLogHeadOf(tx);
    const verifier = new AccessChainVerifier(keys);
    let firstBroken: AccessBrokenLink | null = null;
    let lastId: number | null = null;
    for await (const batch of accessRows(tx)) {
      options.signal?.throwIfAborted();
      for (const row of batch) {
        options.onRow?.(row);
        firstBroken ??= verifier.check(row);
        lastId = row.id;
      }
      options.onProgress?.(verifier.rowsChecked);
    }
    firstBroken ??= verifier.checkHead(head, lastId);
    return { ok: firstBroken === null, rowsChecked: verifier.rowsChecked, unchainedRows: verifier.unchainedRows, firstBroken };
  })) as AccessVerifyResult;
}
