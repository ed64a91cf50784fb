/**
 * Applies a batch of events to a set of projections inside one transaction (the caller's): per
 * projection, duplicate/gap detection from its per-stream revisions, the handler on the whole batch,
 * and, if the handler throws, one event at a time in savepoints so a poison event is isolated.
 */
import { sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import { upcastAny, type AnyDomainEvent } from '../domain';
import type { RecordedEvent } from '../eventstore';
import { guardConnectionLoss } from '../db/connection-loss';
import { collectWrites, WriteCollector, writeStatements } from './rows';
import { followsStream, handlesType, type ProjectedEvent, type Projection, type ProjectionTx } from './types';

export type Outcome =
  | { kind: 'applied' }
  | { kind: 'duplicate' }
  | { kind: 'gap'; reason: string }
  | { kind: 'failed'; reason: string };

export interface DecodedEvent {
  recorded: RecordedEvent;
  domain: AnyDomainEvent | null;
  error?: Error;
}

/** Decrypts personal data (lib/privacy's vault). */
export interface PersonalDecryptor {
  decryptEvent<E extends { type: string; data: unknown }>(event: E): Promise<E>;
}

function hasEncryptedPersonal(data: unknown): boolean {
  const personal = (data as { personal?: { kind?: unknown } } | null)?.personal;
  return typeof personal === 'object' && personal !== null && personal.kind === 'encrypted';
}

/** Decryptions in flight at once while decoding (each may read the patient's key: a round trip). */
const DECRYPT_CONCURRENCY = 32;

/**
 * Upcasts and validates each event (and decrypts personal data); an event that fails keeps its error.
 * Only events with encrypted personal data go to the vault, several at a time (a key not cached
 * costs a query; one after the other they were most of a rebuild's decode time).
 */
export async function decodeEvents(events: readonly RecordedEvent[], decryptor?: PersonalDecryptor): Promise<DecodedEvent[]> {
  const out: DecodedEvent[] = new Array(events.length);
  const toDecrypt: Array<{ index: number; domain: AnyDomainEvent }> = [];
  const fail = (recorded: RecordedEvent, error: unknown): DecodedEvent => ({ recorded, domain: null, error: error instanceof Error ? error : new Error(String(error)) });
  events.forEach((recorded, index) => {
    try {
      let domain: AnyDomainEvent | null;
      try {
        domain = upcastAny({ type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data });
      } catch (error) {
        if ((error as Error).message?.startsWith('unknown event type')) domain = null;
        else throw error;
      }
      if (domain && hasEncryptedPersonal(domain.data)) {
        if (!decryptor) throw new Error('personal data is encrypted and no vault is configured (PERSONAL_DATA_MASTER_KEY)');
        toDecrypt.push({ index, domain });
      }
      out[index] = { recorded, domain };
    } catch (error) {
      out[index] = fail(recorded, error);
    }
  });
  let next = 0;
  const lane = async () => {
    for (let item = toDecrypt[next++]; item; item = toDecrypt[next++]) {
      const recorded = events[item.index]!;
      try {
        out[item.index] = { recorded, domain: await decryptor!.decryptEvent(item.domain) };
      } catch (error) {
        out[item.index] = fail(recorded, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECRYPT_CONCURRENCY, toDecrypt.length) }, lane));
  return out;
}

export interface ApplyOptions {
  /** Event ids to acknowledge without handling (the admin's "skip" of a parked event). */
  skip?: ReadonlySet<string>;
  /**
   * false (default): every projection at once (their statements pipelined on the transaction's
   * connection), no savepoints; a handler error throws HandlerFailed and the caller must roll back and
   * call again with isolate: true. true: one projection after the other, each event in a savepoint,
   * so a poison event is isolated and reported as 'failed'.
   */
  isolate?: boolean;
  /**
   * Called once every outcome is final, with the batch's result. Fast mode: before the handlers
   * finish, with the batch's write collector (statements written with writeStatements(tx, …) go out
   * in the batch's single write statement; collector.setFinal for a closing SELECT such as a
   * pg_notify). Isolate mode: after everything, without a collector (statements are sent at once).
   */
  onOutcomes?: (result: ApplyResult, collector?: WriteCollector) => Promise<unknown>;
  /**
   * Called synchronously just before the revisions are read: statements it starts with
   * rawClient(tx)…execute() run before that read (the apply lock, the registry).
   */
  beforeRead?: () => void;
  /**
   * The complete per-stream revisions of a projection, kept in memory by the caller (a rebuild writing
   * into tables only it writes): used instead of reading its revision table (a stream not in the map
   * has none). The caller keeps the map up to date once the transaction has committed.
   */
  knownRevisions?: (projection: Projection) => ReadonlyMap<string, number> | undefined;
  /**
   * false: the revision tables are not written (a rebuild's copy, which keeps them in memory with
   * knownRevisions and COPYs them once at its end). Fast mode only. Default true.
   */
  writeRevisions?: boolean;
}

export interface ApplyResult {
  outcomes: Outcome[];
  /** Events handed to handlers (per batch, over all projections). */
  handled: number;
}

/** A handler threw in the fast (non-isolating) mode: roll back and apply again with isolate: true. */
export class HandlerFailed extends Error {
  override readonly name = 'HandlerFailed';
  constructor(
    readonly projection: string,
    readonly error: unknown,
  ) {
    super(`${projection}: ${errorText(error)}`);
  }
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

/**
 * The transaction's postgres.js client. Statements started with `.execute()` are written to the
 * connection in call order (drizzle's query builders start theirs a varying number of microtasks
 * later), which is what lets the live batch pipeline the apply lock and the reads that must follow it.
 */
export function rawClient(tx: ProjectionTx): postgres.Sql {
  return (tx as unknown as { session: { client: postgres.Sql } }).session.client;
}

/** Reads the last applied revision of the given streams for several projections in one statement. */
function readRevisions(tx: ProjectionTx, wanted: ReadonlyArray<{ projection: Projection; streams: string[] }>): Promise<Array<Map<string, number>>> {
  const maps = wanted.map(() => new Map<string, number>());
  const parts: string[] = [];
  const params: string[][] = [];
  wanted.forEach(({ projection, streams }, i) => {
    if (streams.length === 0) return;
    params.push(streams);
    const table = getTableConfig(projection.revisions).name.replaceAll('"', '""');
    parts.push(`select ${i}::int as p, stream_id, revision from "${table}" where stream_id = any($${params.length}::text[])`);
  });
  if (parts.length === 0) return Promise.resolve(maps);
  return rawClient(tx)
    .unsafe<Array<{ p: number; stream_id: string; revision: string | number }>>(parts.join(' union all '), params)
    .execute()
    .then((rows) => {
      for (const r of rows) maps[Number(r.p)]!.set(r.stream_id, Number(r.revision));
      return maps;
    });
}

/** Writes the revisions that changed (one statement; collected with the batch's other writes if a collector is open). */
function writeRevisions(tx: ProjectionTx, projection: Projection, stored: Map<string, number>, revisions: Map<string, number>): Promise<unknown> {
  const changed: Array<{ stream_id: string; revision: number }> = [];
  for (const [streamId, revision] of revisions) if (stored.get(streamId) !== revision) changed.push({ stream_id: streamId, revision });
  if (changed.length === 0) return Promise.resolve();
  return writeStatements(tx, projection.revisions, [
    sql`insert into ${projection.revisions} (stream_id, revision)
    select x.stream_id, x.revision from jsonb_to_recordset(${JSON.stringify(changed)}::jsonb)
      as x(stream_id text, revision bigint)
    on conflict (stream_id) do update set revision = excluded.revision`,
  ]);
}

/**
 * Applies `events` (in the given order) to each projection within `tx`. In isolate mode it never
 * throws for a handler error: the event's outcome says 'failed' (other events and projections go on).
 *
 * Round trips (fast mode): one statement reads every projection's revisions; then each handler's
 * loads and writes and each projection's revision upsert are issued together (pipelined on the
 * transaction's connection), and `onOutcomes` (the caller's checkpoint statements) with them.
 */
export async function applyBatch(
  tx: ProjectionTx,
  projections: readonly Projection[],
  events: readonly DecodedEvent[],
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const perEvent: Array<Outcome[]> = events.map(() => []);
  let handled = 0;
  const isolate = options.isolate ?? false;

  const followedBy = projections.map((projection) => {
    const followed = events.map((e) => followsStream(projection, e.recorded.streamId));
    const streams = [...new Set(events.filter((_, i) => followed[i]).map((e) => e.recorded.streamId))];
    return { projection, followed, streams };
  });
  options.beforeRead?.();
  const known = followedBy.map(({ projection }) => options.knownRevisions?.(projection));
  const read = await readRevisions(
    tx,
    followedBy.map((f, i) => (known[i] ? { ...f, streams: [] } : f)),
  );
  const storedAll = read.map((fromDb, i) => {
    const map = known[i];
    if (!map) return fromDb;
    const stored = new Map<string, number>();
    for (const stream of followedBy[i]!.streams) {
      const revision = map.get(stream);
      if (revision !== undefined) stored.set(stream, revision);
    }
    return stored;
  });

  const classify = async (index: number) => {
    const { projection, followed, streams } = followedBy[index]!;
    if (streams.length === 0) return undefined;
    const stored = storedAll[index]!;
    const revisions = new Map(stored);
    const blocked = new Map<string, string>();
    const outcomes = new Map<number, Outcome>();
    const toHandle: ProjectedEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      if (!followed[i]) continue;
      const e = events[i]!;
      const { streamId, revision } = e.recorded;
      const last = revisions.get(streamId) ?? -1;
      if (revision <= last) {
        outcomes.set(i, { kind: 'duplicate' });
        continue;
      }
      const blockedBy = blocked.get(streamId);
      if (blockedBy !== undefined) {
        outcomes.set(i, { kind: 'gap', reason: `${projection.name}: waiting for ${blockedBy}` });
        continue;
      }
      if (revision > last + 1) {
        // Not blocking the stream: the missing revision may come later in this very batch.
        outcomes.set(i, { kind: 'gap', reason: `${projection.name}: gap in ${streamId}: revision ${revision} after ${last}` });
        continue;
      }
      const wanted = handlesType(projection, e.recorded.type) && !options.skip?.has(e.recorded.eventId);
      if (wanted && e.error && !projection.rawOnly) {
        if (!isolate) throw new HandlerFailed(projection.name, e.error);
        outcomes.set(i, { kind: 'failed', reason: `${projection.name}: ${errorText(e.error)}` });
        blocked.set(streamId, `${streamId}@${revision} (failed)`);
        continue;
      }
      if (wanted && isolate) {
        try {
          await tx.transaction(async (sp) => guardConnectionLoss(() => projection.handle(sp as ProjectionTx, [{ recorded: e.recorded, domain: e.domain }])));
          handled++;
        } catch (error) {
          outcomes.set(i, { kind: 'failed', reason: `${projection.name}: ${errorText(error)}` });
          blocked.set(streamId, `${streamId}@${revision} (failed)`);
          continue;
        }
      } else if (wanted) {
        toHandle.push({ recorded: e.recorded, domain: e.domain });
      }
      revisions.set(streamId, revision);
      outcomes.set(i, { kind: 'applied' });
    }
    for (const [i, outcome] of outcomes) perEvent[i]!.push(outcome);
    return { projection, stored, revisions, toHandle };
  };

  if (isolate) {
    // One projection after the other, each event in a savepoint (classify runs the handlers).
    for (let i = 0; i < projections.length; i++) {
      const c = await classify(i);
      if (c) await writeRevisions(tx, c.projection, c.stored, c.revisions);
    }
  } else {
    // Every outcome is known before any handler runs (a handler error throws HandlerFailed).
    const classified = [];
    for (let i = 0; i < projections.length; i++) classified.push(await classify(i));
    for (const c of classified) if (c) handled += c.toHandle.length;
    const result = { outcomes: summarize(perEvent), handled };
    // The handlers run together (disjoint tables: their loads interleave on the one connection) and
    // their writes, the revisions and the caller's checkpoint go out as one statement at the end.
    const collector = new WriteCollector();
    const stop = collectWrites(tx, collector);
    const work: Array<Promise<unknown>> = [];
    for (const c of classified) {
      if (!c) continue;
      if (c.toHandle.length > 0) {
        work.push(
          c.projection.handle(tx, c.toHandle).catch((error) => {
            throw new HandlerFailed(c.projection.name, error);
          }),
        );
      }
      if (options.writeRevisions !== false) work.push(writeRevisions(tx, c.projection, c.stored, c.revisions));
    }
    if (options.onOutcomes) work.push(options.onOutcomes(result, collector));
    const settled = await Promise.allSettled(work);
    stop();
    const failure =
      settled.find((r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason instanceof HandlerFailed) ??
      settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    try {
      await collector.send(tx);
    } catch (error) {
      // A write the handlers produced was refused (a constraint): find the event by isolating.
      throw new HandlerFailed('batch write', error);
    }
    return result;
  }
  const result = { outcomes: summarize(perEvent), handled };
  if (options.onOutcomes) await options.onOutcomes(result);
  return result;
}

function summarize(perEvent: Array<Outcome[]>): Outcome[] {
  return perEvent.map((list): Outcome => {
    const failed = list.filter((o) => o.kind === 'failed') as Array<{ reason: string }>;
    if (failed.length > 0) return { kind: 'failed', reason: failed.map((f) => f.reason).join('; ') };
    const gaps = list.filter((o) => o.kind === 'gap') as Array<{ reason: string }>;
    if (gaps.length > 0) return { kind: 'gap', reason: gaps.map((g) => g.reason).join('; ') };
    if (list.some((o) => o.kind === 'applied')) return { kind: 'applied' };
    return list.length > 0 ? { kind: 'duplicate' } : { kind: 'applied' };
  });
}
