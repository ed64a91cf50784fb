/**
 * Applies a batch of events to a set of projections inside one transaction (the caller's): per
 * projection, duplicate/gap detection from its per-stream revisions, the handler on the whole batch,
 * and, if the handler throws, one event at a time in savepoints so a poison event is isolated.
 */
import { inArray, sql } from 'drizzle-orm';
import { upcastAny, type AnyDomainEvent } from '../domain';
import type { RecordedEvent } from '../eventstore';
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

/** Upcasts and validates each event (and decrypts personal data); an event that fails keeps its error. */
export async function decodeEvents(events: readonly RecordedEvent[], decryptor?: PersonalDecryptor): Promise<DecodedEvent[]> {
  const out: DecodedEvent[] = [];
  for (const recorded of events) {
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
        domain = await decryptor.decryptEvent(domain);
      }
      out.push({ recorded, domain });
    } catch (error) {
      out.push({ recorded, domain: null, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
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
 * Applies `events` (in the given order) to each projection within `tx`. In isolate mode it never
 * throws for a handler error: the event's outcome says 'failed' (other events and projections go on).
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

  const one = async (projection: Projection) => {
    const followed = events.map((e) => followsStream(projection, e.recorded.streamId));
    const streams = [...new Set(events.filter((_, i) => followed[i]).map((e) => e.recorded.streamId))];
    if (streams.length === 0) return;
    const rev = projection.revisions as unknown as { streamId: never; revision: never };
    const stored = new Map<string, number>();
    for (let i = 0; i < streams.length; i += 5000) {
      const rows = (await tx
        .select({ streamId: rev.streamId, revision: rev.revision })
        .from(projection.revisions)
        .where(inArray(rev.streamId, streams.slice(i, i + 5000)))) as Array<{ streamId: string; revision: number }>;
      for (const r of rows) stored.set(r.streamId, Number(r.revision));
    }

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
          await tx.transaction(async (sp) => projection.handle(sp as ProjectionTx, [{ recorded: e.recorded, domain: e.domain }]));
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
    if (toHandle.length > 0) {
      try {
        await projection.handle(tx, toHandle);
      } catch (error) {
        throw new HandlerFailed(projection.name, error);
      }
      handled += toHandle.length;
    }
    const changed: Array<{ stream_id: string; revision: number }> = [];
    for (const [streamId, revision] of revisions) if (stored.get(streamId) !== revision) changed.push({ stream_id: streamId, revision });
    for (let i = 0; i < changed.length; i += 5000) {
      await tx.execute(sql`
        insert into ${projection.revisions} (stream_id, revision)
        select x.stream_id, x.revision from jsonb_to_recordset(${JSON.stringify(changed.slice(i, i + 5000))}::jsonb)
          as x(stream_id text, revision bigint)
        on conflict (stream_id) do update set revision = excluded.revision`);
    }
    for (const [i, outcome] of outcomes) perEvent[i]!.push(outcome);
  };

  if (isolate) {
    for (const projection of projections) await one(projection);
  } else {
    // Disjoint tables: the projections' statements can interleave on the one connection.
    const results = await Promise.allSettled(projections.map((p) => one(p)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }
  const outcomes = perEvent.map((list): Outcome => {
    const failed = list.filter((o) => o.kind === 'failed') as Array<{ reason: string }>;
    if (failed.length > 0) return { kind: 'failed', reason: failed.map((f) => f.reason).join('; ') };
    const gaps = list.filter((o) => o.kind === 'gap') as Array<{ reason: string }>;
    if (gaps.length > 0) return { kind: 'gap', reason: gaps.map((g) => g.reason).join('; ') };
    if (list.some((o) => o.kind === 'applied')) return { kind: 'applied' };
    return list.length > 0 ? { kind: 'duplicate' } : { kind: 'applied' };
  });
  return { outcomes, handled };
}
