/**
 * The event store port (DESIGN §3). Everything outside lib/eventstore uses these types and the
 * factory in ./index.ts, never a backend directly. Semantics follow EventStoreDB's.
 *
 * Revisions are plain numbers (0-based, the first event of a stream is revision 0): exact up to
 * 2^53 - 1 events per stream, far beyond our short streams. Global positions are bigint pairs, like
 * EventStoreDB's: on EventStoreDB {commit, prepare} are its log positions; on PostgreSQL `commit` is
 * the writing transaction's xid8 and `prepare` the event's insert number. Either way positions are
 * totally ordered by (commit, prepare) (see comparePositions) and that is the order of readAll and of
 * subscriptions.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Actor {
  id: string;
  role: string;
}

/** What the writer supplies with every event (DESIGN §3). */
export interface EventMetadata {
  actor: Actor;
  /** When the fact happened in the domain (ISO 8601). */
  occurredAt: string;
  commandId?: string | null;
  correlationId?: string | null;
  causationId?: string | null;
  clinicId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Further fields are kept as they are (JSON values). */
  [key: string]: JsonValue | Actor | undefined;
}

/** Added by the store inside the append: the keyed hash chain (see hash-chain.ts). */
export interface IntegrityMetadata {
  /** 'HMAC-SHA-256/v1' */
  alg: string;
  /** Which key chained this event (hmacKeyId; absent on events written before key ids): for rotation. */
  kid?: string;
  /** Hash of the previous event of the same stream, null for revision 0. */
  previousHash: string | null;
  /** HMAC over this event's canonical fields and previousHash (base64url). */
  hash: string;
}

export type RecordedMetadata = EventMetadata & { integrity: IntegrityMetadata };

export interface NewEvent<Type extends string = string, Data extends JsonObject = JsonObject> {
  /** UUID v7; generated when omitted. Re-sending the same ids makes an append idempotent. */
  eventId?: string;
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: EventMetadata;
}

export interface Position {
  commit: bigint;
  prepare: bigint;
}

export interface RecordedEvent<Type extends string = string, Data extends JsonObject = JsonObject> {
  eventId: string;
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: RecordedMetadata;
  streamId: string;
  revision: number;
  position: Position;
  recordedAt: Date;
}

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;
/** The actual state of a stream as reported by WrongExpectedVersion. */
export type CurrentRevision = number | 'no_stream';

export interface AppendOptions {
  /** Default 'any'. */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event written: the expectedRevision for the next append. */
  nextExpectedRevision: number;
  /** Global position of the last event written (what read-your-writes waits for). */
  position: Position;
  /**
   * The position of every event written, in revision order (the last is `position`), for a caller
   * that appends several commands' events at once and owes each its own. The PostgreSQL backend sets
   * it (also for a repeat); EventStoreDB's append answers with the last position only, so it is unset there.
   */
  positions?: Position[];
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  direction?: Direction;
  /** Inclusive. Default: 'start' forwards, 'end' backwards. */
  fromRevision?: number | 'start' | 'end';
  /** Default: unlimited. */
  maxCount?: number;
}

export interface EventFilter {
  /** Stream id prefixes (e.g. 'reservation-'); an event matches if its stream starts with any. */
  streamPrefixes?: string[];
  /** Exact event types; an event matches if its type is one of them. */
  eventTypes?: string[];
}

export interface ReadAllOptions {
  direction?: Direction;
  /**
   * Inclusive, as EventStoreDB's readAll: forwards returns events at or after this position,
   * backwards events at or before it. Default: 'start' forwards, 'end' backwards.
   */
  fromPosition?: Position | 'start' | 'end';
  /** Default 1000. */
  maxCount?: number;
  filter?: EventFilter;
}

export interface SubscribeToAllOptions {
  /**
   * Exclusive, as EventStoreDB's subscriptions: events strictly after this position are delivered.
   * 'start' (default) delivers everything; 'end' only what is appended from now on.
   */
  fromPosition?: Position | 'start' | 'end';
  filter?: EventFilter;
  /** Called (once each time) when the subscription has delivered everything stored and goes live. */
  onCaughtUp?: () => void;
}

export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export interface CatchUpSubscription {
  /** Position of the last event delivered (and handled), the checkpoint to store. */
  readonly lastPosition: Position | undefined;
  /** Stops delivery; resolves when the handler is no longer running. */
  stop(): Promise<void>;
  /** Resolves when stopped, rejects with the handler's error if the handler throws. */
  readonly done: Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Persistent subscription groups (EventStoreDB's persistent subscriptions to $all with a filter).

export interface GroupSettings {
  /** Deliveries of one event after its first one before it is parked (EventStoreDB maxRetryCount). Default 10. */
  maxRetryCount: number;
  /** An event neither acked nor nacked within this time is retried (counts as a retry). Default 30 s. */
  messageTimeoutMs: number;
  /** Events delivered but not yet acked at most (EventStoreDB's buffer size). Default 10. */
  maxInFlight: number;
  /** How often the checkpoint is written while events are acked. Default 1 s. */
  checkpointAfterMs: number;
}

export interface CreateGroupOptions extends Partial<GroupSettings> {
  filter?: EventFilter;
  /** Where the group starts: 'start' (default), 'end', or after a position (exclusive). */
  startFrom?: Position | 'start' | 'end';
}

export type UpdateGroupOptions = Partial<GroupSettings>;

export interface GroupInfo {
  name: string;
  filter: EventFilter;
  settings: GroupSettings;
  /** Everything up to here is acked, skipped or parked (durable); undefined before the first. */
  checkpoint: Position | undefined;
  /** The active consumer, if any. */
  activeConsumer: { id: string; leaseExpiresAt?: Date } | null;
  parkedCount: number;
}

export type NackAction = 'retry' | 'park' | 'skip';

export interface GroupMessage {
  event: RecordedEvent;
  /** 0 on the first delivery, n on the n-th retry. */
  retryCount: number;
  /** True when this is a parked event being replayed. */
  replayed: boolean;
  ack(): Promise<void>;
  nack(action: NackAction, reason: string): Promise<void>;
}

/**
 * Receives one message at a time. Ack or nack it (now or later, within messageTimeoutMs). A handler
 * that throws nacks the message with 'retry' and the error message as reason.
 */
export type GroupHandler = (message: GroupMessage) => void | Promise<void>;

export interface ConnectGroupOptions {
  /** Identifies this consumer in GroupInfo; random by default. */
  consumerId?: string;
  /** Called when this consumer becomes the active one (after standing by or at once). */
  onActive?: () => void;
  /** Called on errors the consumer recovers from (lost connection, lost lease...). */
  onError?: (error: unknown) => void;
}

export interface GroupConsumer {
  readonly consumerId: string;
  /** True while this consumer is the group's active consumer. */
  readonly active: boolean;
  /** Graceful stop: writes the checkpoint, releases the group so a standby takes over at once. */
  stop(): Promise<void>;
  /**
   * Stops as if the process had died: nothing more is written, unacked messages are abandoned and the
   * group is not released (a standby takes over when the lease expires). For failover tests and chaos.
   */
  abort(): Promise<void>;
}

export interface ParkedEvent {
  event: RecordedEvent;
  reason: string;
  retryCount: number;
  parkedAt: Date | undefined;
  /** True once replay was requested and the event waits to be redelivered. */
  replayRequested: boolean;
}

export interface PersistentGroups {
  create(name: string, options?: CreateGroupOptions): Promise<void>;
  update(name: string, options: UpdateGroupOptions): Promise<void>;
  delete(name: string): Promise<void>;
  list(): Promise<GroupInfo[]>;
  info(name: string): Promise<GroupInfo>;
  connect(name: string, handler: GroupHandler, options?: ConnectGroupOptions): GroupConsumer;
  listParked(name: string, options?: { maxCount?: number }): Promise<ParkedEvent[]>;
  /** Redelivers the parked events to the group's consumer; returns how many were queued (if known). */
  replayParked(name: string): Promise<number | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Tamper evidence.

export interface BrokenLink {
  streamId: string;
  revision: number;
  eventId: string;
  position: Position | undefined;
  /** missing-stream: a stream asked for by id (verify's streamIds) that the log does not hold at all. */
  problem: 'hash-mismatch' | 'previous-hash-mismatch' | 'revision-gap' | 'missing-integrity' | 'head-mismatch' | 'missing-stream';
  expected: string;
  found: string;
}

export interface VerifyResult {
  ok: boolean;
  streamsChecked: number;
  eventsChecked: number;
  /** The first broken link found: in log order (PostgreSQL, EventStoreDB), then the stream heads (PostgreSQL). */
  firstBroken: BrokenLink | null;
}

export interface VerifyOptions {
  /** One stream; the whole log when omitted. */
  streamId?: string;
  /** These streams (e.g. one clinic's); one the log does not hold is reported as `missing-stream`. */
  streamIds?: readonly string[];
  /** Called every few hundred events with the counts so far (long runs show progress). */
  onProgress?: (progress: { eventsChecked: number; streamsChecked: number }) => void;
  /** Stops the walk (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------

export interface EventStore {
  readonly backend: 'postgres' | 'eventstoredb';
  append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Throws StreamNotFound when the stream has no events. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(handler: EventHandler, options?: SubscribeToAllOptions): CatchUpSubscription;
  readonly groups: PersistentGroups;
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  /** Stops subscriptions and consumers and closes connections. */
  close(): Promise<void>;
}
