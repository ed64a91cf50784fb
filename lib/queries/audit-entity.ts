/**
 * The audit entity page (/audit/<stream>, issue 10 item 2): one stream's whole history read from the
 * event store (never a read model), each event with its envelope metadata and the change it made to
 * the entity's state, folded by the domain's own upcast + evolve; the state as of a revision or a
 * moment beside the current state; and the events of other streams in the same conversations
 * (correlation ids), nested by causation.
 *
 * Personal data is never decrypted here: an encrypted field shows as "personal data (encrypted)".
 * The one exception is a patient's own request origin (IP, user agent), sealed under their key in the
 * metadata: opened with `deps.vault` when given, "erased" once the patient is.
 * Auditors (every clinic) and clinic managers (their clinic); `entityHistoryOf` takes its dependencies for the tests.
 */
import { and, desc, inArray, ne } from 'drizzle-orm';
import { z } from 'zod';
import { assertInScope, requireAuditScope } from '../auth/audit-scope';
import { db as appDb, type Db } from '../db/client';
import { deciders, parseStream, type StreamKind } from '../domain';
import { comparePositions, encodePosition, StreamNotFound, type EventStore, type RecordedEvent } from '../eventstore';
import { rmAuditLog } from '../projections/schema';
import { recordPersonalDataAccess } from '../privacy/access-log';
import { originReader, type OriginOpener, type OriginView } from '../privacy/origin';
import { appCommandDeps } from '../runtime/command-deps';
import { appEventStore } from '../runtime/event-store';
import { diffStates, flattenState, sameLeaf, type DiffEntry, type Leaf } from './state-diff';

export type AsOf = { readonly kind: 'revision'; readonly revision: number } | { readonly kind: 'moment'; readonly at: Date };

export interface FlatEntry {
  readonly path: string;
  readonly leaf: Leaf;
}

export interface EntityEvent {
  readonly eventId: string;
  readonly type: string;
  /** As stored (the page shows it; the fold uses the upcast event). */
  readonly schemaVersion: number;
  readonly revision: number;
  readonly position: string;
  /** metadata.occurredAt: when it happened in the domain (the command's clock). */
  readonly occurredAt: Date | null;
  /** When the store recorded it. */
  readonly recordedAt: Date;
  readonly actorId: string;
  readonly actorRole: string;
  readonly commandType: string | null;
  readonly commandId: string | null;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly clinicId: string | null;
  /** The request's IP and user agent: in plaintext for staff and the like, opened from a patient's sealed origin (lib/privacy/origin.ts). */
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** 'erased': a patient's sealed origin whose key is gone; 'none': nothing was recorded. */
  readonly origin: OriginView['status'];
  /** The event's data after upcasting, flattened (personal data hidden); empty when unreadable. */
  readonly data: readonly FlatEntry[];
  /** What this event changed in the folded state. */
  readonly diff: readonly DiffEntry[];
  /** The domain could not read it (unknown type, unreadable version, bad data): the fold skips it. */
  readonly unreadable: boolean;
}

export interface ComparedPath {
  readonly path: string;
  readonly asOf?: Leaf;
  readonly current?: Leaf;
  readonly changed: boolean;
}

export interface AsOfView {
  readonly request: AsOf;
  /** The last event folded in; null: before the stream's first event (the initial state). */
  readonly revision: number | null;
  /** Every path of the state as of then and now, changed ones marked. */
  readonly comparison: readonly ComparedPath[];
}

export interface RelatedNode {
  readonly eventId: string;
  readonly streamId: string;
  readonly type: string;
  readonly revision: number;
  readonly occurredAt: Date | null;
  readonly actorId: string;
  readonly actorRole: string;
  readonly inThisStream: boolean;
  readonly children: readonly RelatedNode[];
}

export interface Conversation {
  readonly correlationId: string;
  /** Events with no cause among the conversation's events (a user's command), each with what it caused. */
  readonly roots: readonly RelatedNode[];
  readonly otherStreams: readonly string[];
  /** More streams share the correlation than were read (RELATED_STREAMS_MAX). */
  readonly truncated: boolean;
}

export interface EntityHistory {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly events: readonly EntityEvent[];
  readonly current: readonly FlatEntry[];
  readonly asOf: AsOfView | null;
  /** The requested revision is not in the stream. */
  readonly asOfOutOfRange: boolean;
  /** Conversations of this stream that reached other streams, newest first. */
  readonly conversations: readonly Conversation[];
  /** Conversations of this stream that stayed inside it. */
  readonly localConversations: number;
}

/** Correlations looked up per page, and other streams read per page (each read whole from the store). */
export const RELATED_CORRELATIONS_MAX = 50;
export const RELATED_STREAMS_MAX = 30;
/** (correlation, stream) pairs looked up per page. */
const RELATED_PAIRS_MAX = RELATED_STREAMS_MAX * 4;

const KST_OFFSET_MS = 9 * 60 * 60 * 1000;

/** The page's query string: `rev` (a revision) or `at` (a datetime-local value, read as Seoul time). */
export const asOfSchema = z.object({
  rev: z
    .union([z.literal(''), z.string().regex(/^\d{1,9}$/)])
    .optional()
    .transform((v) => (v ? Number(v) : undefined)),
  at: z
    .union([z.literal(''), z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/)])
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const at = new Date(`${v}+09:00`);
      if (Number.isNaN(at.getTime())) {
        ctx.addIssue({ code: 'custom', message: 'invalid moment' });
        return z.NEVER;
      }
      return at;
    }),
});

/** The as-of request of a query string (`rev` wins over `at`), and whether it was malformed (then nothing is applied). */
export function parseAsOf(params: Record<string, string | undefined>): { asOf: AsOf | null; invalid: boolean } {
  const parsed = asOfSchema.safeParse({ rev: params.rev, at: params.at });
  if (!parsed.success) return { asOf: null, invalid: true };
  if (parsed.data.rev !== undefined) return { asOf: { kind: 'revision', revision: parsed.data.rev }, invalid: false };
  if (parsed.data.at) return { asOf: { kind: 'moment', at: parsed.data.at }, invalid: false };
  return { asOf: null, invalid: false };
}

/** A datetime-local value (Seoul wall clock, to the second) for an instant. */
export function toKstLocalInput(at: Date): string {
  return new Date(at.getTime() + KST_OFFSET_MS).toISOString().slice(0, 19);
}

type LooseDecider = { initialState(): unknown; evolve(state: unknown, event: unknown): unknown; upcast(raw: { type: string; schemaVersion: number; data: unknown }): unknown };

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

function occurredAtOf(e: RecordedEvent): Date | null {
  const at = text(e.metadata.occurredAt);
  if (!at) return null;
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? null : d;
}

const flat = (value: unknown): FlatEntry[] => [...flattenState(value)].map(([path, leaf]) => ({ path, leaf }));

async function readWhole(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  try {
    return await store.readStream(streamId);
  } catch (error) {
    if (error instanceof StreamNotFound) return [];
    throw error;
  }
}

function compare(asOf: unknown, current: unknown): ComparedPath[] {
  const a = flattenState(asOf);
  const c = flattenState(current);
  const changed = new Set(diffStates(asOf, current).map((d) => d.path));
  const rows: ComparedPath[] = [];
  for (const [path, leaf] of c) rows.push({ path, current: leaf, ...(a.has(path) ? { asOf: a.get(path)! } : {}), changed: changed.has(path) || !sameLeaf(a.get(path), leaf) });
  for (const [path, leaf] of a) if (!c.has(path)) rows.push({ path, asOf: leaf, changed: true });
  return rows;
}

/**
 * The history of one stream. Null when the name is not one of our stream kinds or the stream has
 * no events. The related conversations are found through the audit-log read model (its correlation
 * index; a filtered readAll would scan the whole log) and then read from the store itself.
 */
export async function entityHistoryOf(deps: { store: EventStore; db: Db; vault?: OriginOpener }, streamId: string, asOfRequest: AsOf | null = null): Promise<EntityHistory | null> {
  const parsed = parseStream(streamId);
  if (!parsed) return null;
  const recorded = await readWhole(deps.store, streamId);
  if (recorded.length === 0) return null;
  const decider = deciders[parsed.kind] as unknown as LooseDecider;

  const originOf = originReader(deps.vault);
  let state = decider.initialState();
  let asOfState: unknown = state;
  let asOfRevision: number | null = null;
  const events: EntityEvent[] = [];
  for (const e of recorded) {
    let next = state;
    let data: FlatEntry[] = [];
    let unreadable = false;
    try {
      const upcast = decider.upcast({ type: e.type, schemaVersion: e.schemaVersion, data: e.data });
      next = decider.evolve(state, upcast);
      data = flat((upcast as { data: unknown }).data);
    } catch {
      // An event the domain cannot read is listed with its envelope and skipped by the fold, as
      // everywhere else; its raw data is not shown (it could hold personal data in an old shape).
      unreadable = true;
    }
    const m = e.metadata;
    const origin = await originOf(m);
    events.push({
      eventId: e.eventId,
      type: e.type,
      schemaVersion: e.schemaVersion,
      revision: e.revision,
      position: encodePosition(e.position),
      occurredAt: occurredAtOf(e),
      recordedAt: e.recordedAt,
      actorId: text(m.actor?.id) ?? 'unknown',
      actorRole: text(m.actor?.role) ?? 'unknown',
      commandType: text(m.commandType),
      commandId: text(m.commandId),
      correlationId: text(m.correlationId),
      causationId: text(m.causationId),
      clinicId: text(m.clinicId),
      ip: origin.status === 'available' ? origin.ip : null,
      userAgent: origin.status === 'available' ? origin.userAgent : null,
      origin: origin.status,
      data,
      diff: diffStates(state, next),
      unreadable,
    });
    state = next;
    const included =
      asOfRequest?.kind === 'revision' ? e.revision <= asOfRequest.revision : asOfRequest?.kind === 'moment' ? e.recordedAt.getTime() <= asOfRequest.at.getTime() : false;
    if (included) {
      asOfState = state;
      asOfRevision = e.revision;
    }
  }

  const lastRevision = recorded.at(-1)!.revision;
  const asOfOutOfRange = asOfRequest?.kind === 'revision' && asOfRequest.revision > lastRevision;
  const asOf: AsOfView | null =
    asOfRequest && !asOfOutOfRange ? { request: asOfRequest, revision: asOfRevision, comparison: compare(asOfState, state) } : null;

  const { conversations, localConversations } = await conversationsOf(deps, streamId, recorded);
  return { streamId, kind: parsed.kind, events, current: flat(state), asOf, asOfOutOfRange, conversations, localConversations };
}

async function conversationsOf(deps: { store: EventStore; db: Db }, streamId: string, own: readonly RecordedEvent[]) {
  // Newest conversations first: the most recent correlation ids of this stream.
  const ids: string[] = [];
  for (let i = own.length - 1; i >= 0 && ids.length < RELATED_CORRELATIONS_MAX; i--) {
    const c = text(own[i]!.metadata.correlationId);
    if (c && !ids.includes(c)) ids.push(c);
  }
  if (ids.length === 0) return { conversations: [], localConversations: 0 };
  const pairs = await deps.db
    .selectDistinct({ correlationId: rmAuditLog.correlationId, streamId: rmAuditLog.streamId })
    .from(rmAuditLog)
    .where(and(inArray(rmAuditLog.correlationId, ids), ne(rmAuditLog.streamId, streamId)))
    .orderBy(desc(rmAuditLog.correlationId), desc(rmAuditLog.streamId))
    .limit(RELATED_PAIRS_MAX);
  // The lookup itself was cut: any conversation may have more streams than listed.
  const cut = pairs.length === RELATED_PAIRS_MAX;
  const streamsOf = new Map<string, string[]>();
  for (const p of pairs) if (p.correlationId) streamsOf.set(p.correlationId, [...(streamsOf.get(p.correlationId) ?? []), p.streamId]);
  const otherIds = [...new Set(pairs.map((p) => p.streamId))];
  const toRead = otherIds.slice(0, RELATED_STREAMS_MAX);
  const others = new Map<string, RecordedEvent[]>();
  // A few at a time: the store's pool is shared with every other request.
  for (let i = 0; i < toRead.length; i += 5) {
    const batch = toRead.slice(i, i + 5);
    const read = await Promise.all(batch.map((s) => readWhole(deps.store, s)));
    batch.forEach((s, j) => others.set(s, read[j]!));
  }

  const conversations: Conversation[] = [];
  let localConversations = 0;
  for (const correlationId of ids) {
    const otherStreams = streamsOf.get(correlationId) ?? [];
    if (otherStreams.length === 0) {
      localConversations++;
      continue;
    }
    const members: RecordedEvent[] = own.filter((e) => e.metadata.correlationId === correlationId);
    for (const s of otherStreams) for (const e of others.get(s) ?? []) if (e.metadata.correlationId === correlationId) members.push(e);
    conversations.push({ correlationId, roots: causationTree(members, streamId), otherStreams, truncated: cut || otherStreams.some((s) => !others.has(s)) });
  }
  return { conversations, localConversations };
}

/** Nests a conversation's events by causation (an event under the event that caused it), each level in log order. */
function causationTree(members: readonly RecordedEvent[], streamId: string): RelatedNode[] {
  const sorted = [...members].sort((a, b) => comparePositions(a.position, b.position));
  const byId = new Set(sorted.map((e) => e.eventId));
  const children = new Map<string, RecordedEvent[]>();
  const roots: RecordedEvent[] = [];
  for (const e of sorted) {
    const cause = text(e.metadata.causationId);
    if (cause && cause !== e.eventId && byId.has(cause)) children.set(cause, [...(children.get(cause) ?? []), e]);
    else roots.push(e);
  }
  const node = (e: RecordedEvent, depth: number): RelatedNode => ({
    eventId: e.eventId,
    streamId: e.streamId,
    type: e.type,
    revision: e.revision,
    occurredAt: occurredAtOf(e),
    actorId: text(e.metadata.actor?.id) ?? 'unknown',
    actorRole: text(e.metadata.actor?.role) ?? 'unknown',
    inThisStream: e.streamId === streamId,
    // Causation cannot cycle in a well-formed log; the depth bound keeps a forged one finite.
    children: depth > 20 ? [] : (children.get(e.eventId) ?? []).map((c) => node(c, depth + 1)),
  });
  return roots.map((e) => node(e, 0));
}

const valuesAt = (entries: readonly FlatEntry[], field: string): string[] =>
  entries.flatMap((d) => ((d.path === field || d.path.endsWith(`.${field}`)) && d.leaf.kind === 'value' && typeof d.leaf.value === 'string' ? [d.leaf.value] : []));

/** The clinics a stream belongs to: its name's (a clinic, a clinic day), its events' and its data's. */
function clinicsOfHistory(history: EntityHistory): string[] {
  const parsed = parseStream(history.streamId);
  const named = parsed?.kind === 'schedule' ? [parsed.clinicId] : parsed?.kind === 'clinic' ? [parsed.id] : [];
  const found = history.events.flatMap((e) => [...(e.clinicId ? [e.clinicId] : []), ...valuesAt(e.data, 'clinicId')]);
  return [...new Set([...named, ...found])];
}

/**
 * The patients whose data a stream's history shows: a patient's own stream, every patientId its events
 * name, and every patient whose sealed IP and user agent the page opened (the events' actors).
 */
function patientsOfHistory(history: EntityHistory): string[] {
  const parsed = parseStream(history.streamId);
  const own = parsed?.kind === 'patient' ? [parsed.id] : [];
  const origins = history.events.flatMap((e) => (e.actorRole === 'patient' && e.origin === 'available' ? [e.actorId] : []));
  return [...new Set([...own, ...history.events.flatMap((e) => valuesAt(e.data, 'patientId')), ...origins])];
}

/**
 * The entity page's data: auditors (every clinic) and clinic managers (their clinic's streams only:
 * another clinic's stream, or one of no clinic such as a patient's own, is a 403); everyone else 403,
 * also when called from elsewhere than the page. Opening a stream that names patients (their
 * reservations, visits, payments; the request metadata of their commands) is recorded in the access
 * log before the history is returned.
 */
export async function auditEntity(streamId: string, asOf: AsOf | null): Promise<EntityHistory | null> {
  const scope = await requireAuditScope(`/audit/${encodeURIComponent(streamId)}`);
  // A patient's own stream belongs to no clinic, whatever clinic its commands were made at: refused unread.
  if (parseStream(streamId)?.kind === 'patient') assertInScope(scope, []);
  const db = appDb();
  const history = await entityHistoryOf({ store: await appEventStore(), db, vault: (await appCommandDeps()).privacy }, streamId, asOf);
  if (!history) return null;
  const clinics = clinicsOfHistory(history);
  assertInScope(scope, clinics);
  const patientIds = patientsOfHistory(history);
  if (patientIds.length > 0) {
    await recordPersonalDataAccess(
      { user: scope.user, action: 'view', resource: 'audit-entity', patientIds, clinicId: scope.clinicId ?? (clinics.length === 1 ? clinics[0]! : null), detail: { stream: streamId } },
      db,
    );
  }
  return history;
}
