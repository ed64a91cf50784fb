/**
 * A double of an EventStoreDB server at the gRPC boundary, for unit tests of the EventStoreDB backend
 * (no server can run on our machines).
 *
 * The client is the real @eventstore/db-client 6.2.1 `EventStoreDBClient`: only its `getGRPCClient`
 * (which would open a channel) and `supports` (which would ask the server's features) are replaced.
 * Everything above the wire is the client's own code: its Subscription, PersistentSubscriptionImpl and
 * ReadStream transforms, event conversion, error conversion (`convertToCommandError`), batch appends
 * with their module-level promise bank, `dispose`. Below it, the calls are grpc-js's own
 * ClientReadableStreamImpl / ClientDuplexStreamImpl with a fake call whose listener does what
 * grpc-js's client does (client.js makeServerStreamRequest / makeBidiStreamRequest): messages are
 * pushed one per read, a status ends the stream (`push(null)`, then 'error' unless OK, then 'status'),
 * a cancel arrives as CANCELLED "Cancelled on client".
 *
 * The server side is small and scripted: a log of streams for reads and batch appends (with the
 * server's expected-revision and exact-revision idempotency checks), catch-up subscriptions that
 * deliver the stored events, `caughtUp`, then live ones (or are scripted by the test), persistent
 * subscription calls the test drives (send events, read the acks and nacks the client writes), and
 * persistent subscription administration that records its requests. What the real server does
 * beyond this is listed in docs/eventstore.md as "verified by reading only".
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStoreDBClient } from '@eventstore/db-client';
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import type * as Call from '@grpc/grpc-js/build/src/call';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb';
import type * as PersistentGrpc from '@eventstore/db-client/generated/persistent_grpc_pb';
import type * as PersistentPb from '@eventstore/db-client/generated/persistent_pb';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb';

// CommonJS modules whose exports Node's ESM loader cannot see by name (generated protobuf code):
// required, so the double runs under vitest and under plain tsx alike. The same module instances the client uses.
const require = createRequire(import.meta.url);
const { callErrorFromStatus, ClientDuplexStreamImpl, ClientReadableStreamImpl } = require('@grpc/grpc-js/build/src/call') as typeof Call;
const { Any } = require('google-protobuf/google/protobuf/any_pb') as typeof AnyPb;
const persistentGrpc = require('@eventstore/db-client/generated/persistent_grpc_pb') as typeof PersistentGrpc;
const persistentPb = require('@eventstore/db-client/generated/persistent_pb') as typeof PersistentPb;
const sharedPb = require('@eventstore/db-client/generated/shared_pb') as typeof SharedPb;
const statusPb = require('@eventstore/db-client/generated/status_pb') as typeof StatusPb;
const streamsGrpc = require('@eventstore/db-client/generated/streams_grpc_pb') as typeof StreamsGrpc;
const streamsPb = require('@eventstore/db-client/generated/streams_pb') as typeof StreamsPb;
type ClientReadableStreamImpl<T> = Call.ClientReadableStreamImpl<T>;
type ClientDuplexStreamImpl<A, B> = Call.ClientDuplexStreamImpl<A, B>;

type Listener = {
  onReceiveMetadata(metadata: Metadata): void;
  onReceiveMessage(message: unknown): void;
  onReceiveStatus(status: StatusObject): void;
};

/** A gRPC call as grpc-js's InterceptingCall presents it to the client streams. */
export class FakeCall {
  private listener: Listener | null = null;
  private readonly queue: unknown[] = [];
  private pendingStatus: StatusObject | null = null;
  private readsWanted = 0;
  finished = false;
  cancelled = false;
  metadata: Metadata | null = null;
  /** Messages the client wrote (requests, acks, nacks), in order. */
  readonly written: unknown[] = [];
  onWrite: ((message: unknown) => void) | null = null;

  start(metadata: Metadata, listener: Listener): void {
    this.metadata = metadata;
    this.listener = listener;
  }
  sendMessage(message: unknown): void {
    this.written.push(message);
    this.onWrite?.(message);
  }
  sendMessageWithContext(context: { callback?: (error?: Error) => void }, message: unknown): void {
    this.sendMessage(message);
    context.callback?.();
  }
  halfClose(): void {}
  startRead(): void {
    this.readsWanted++;
    this.pump();
  }
  cancelWithStatus(code: Status, details: string): void {
    this.cancelled = true;
    // grpc-js ends a cancelled call at once, dropping what was not read yet.
    this.queue.length = 0;
    process.nextTick(() => this.end({ code, details, metadata: new Metadata() }));
  }
  getPeer(): string {
    return 'double:2113';
  }
  getAuthContext(): null {
    return null;
  }

  /** The server sends a message; the client gets it when its stream asks for the next one. */
  deliver(message: unknown): void {
    if (this.finished || this.pendingStatus) return;
    this.queue.push(message);
    this.pump();
  }
  /** The server ends the call; the status reaches the client after the messages sent before it. */
  finish(code: Status = Status.OK, details = '', metadata: Record<string, string> = {}): void {
    if (this.finished || this.pendingStatus) return;
    const md = new Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    this.pendingStatus = { code, details, metadata: md };
    this.pump();
  }
  get connectionName(): string | undefined {
    return this.metadata?.get('connection-name')[0]?.toString();
  }

  private pump(): void {
    process.nextTick(() => {
      while (this.readsWanted > 0 && this.queue.length > 0 && !this.finished) {
        this.readsWanted--;
        this.listener?.onReceiveMessage(this.queue.shift());
      }
      // The status (HTTP/2 trailers) arrives after the last message, in a later turn.
      if (this.queue.length === 0 && this.pendingStatus && !this.finished) setImmediate(() => this.end(this.pendingStatus!));
    });
  }
  private end(status: StatusObject): void {
    if (this.finished) return;
    this.finished = true;
    this.listener?.onReceiveStatus(status);
  }
}

/** grpc-js client.js: what the listener of a streaming call does with messages and the status. */
function attach(stream: ClientReadableStreamImpl<unknown> | ClientDuplexStreamImpl<unknown, unknown>, call: FakeCall, metadata: Metadata): void {
  (stream as unknown as { call: FakeCall }).call = call;
  let receivedStatus = false;
  call.start(metadata, {
    onReceiveMetadata: (m) => stream.emit('metadata', m),
    onReceiveMessage: (m) => stream.push(m),
    onReceiveStatus: (status) => {
      if (receivedStatus) return;
      receivedStatus = true;
      stream.push(null);
      if (status.code !== Status.OK) stream.emit('error', callErrorFromStatus(status, 'double'));
      stream.emit('status', status);
    },
  });
}

export interface StoredRecord {
  streamId: string;
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  metadata: Uint8Array;
  revision: bigint;
  commit: bigint;
  prepare: bigint;
  created: Date;
}

type UnaryCallback = (error: unknown, response?: unknown) => void;

/** A catch-up subscription call as the server sees it. */
export interface SubscriptionCall {
  call: FakeCall;
  from: 'start' | 'end' | { commit: bigint; prepare: bigint };
  filter: { streamPrefixes?: string[]; typeRegex?: string } | null;
  /** Sends an event of the log (or any record) to this subscriber. */
  send(record: StoredRecord): void;
  caughtUp(): void;
}

/** A persistent subscription connection as the server sees it. */
export interface PersistentCall {
  call: FakeCall;
  group: string;
  bufferSize: number;
  confirm(): void;
  send(record: StoredRecord, retryCount?: number, link?: StoredRecord): void;
  acks(): string[];
  nacks(): { action: string; reason: string; ids: string[] }[];
}

export interface DoubleOptions {
  /** Added before every response (ms): a LAN round trip. */
  latencyMs?: number;
  /**
   * 'auto': catch-up subscriptions deliver the stored events after their start, `caughtUp`, then live
   * appends. 'manual': the test drives each call through `subscriptions`.
   */
  subscriptions?: 'auto' | 'manual';
}

function statusError(code: Status, details: string, metadata: Record<string, string>): Error {
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return callErrorFromStatus({ code, details, metadata: md }, 'double');
}

function streamName(identifier: SharedPb.StreamIdentifier | undefined): string {
  return Buffer.from(identifier!.getStreamName_asU8()).toString('utf8');
}

const TICKS_PER_MS = 10_000n;

export class EsdbServerDouble {
  readonly latencyMs: number;
  readonly mode: 'auto' | 'manual';
  readonly log: StoredRecord[] = [];
  readonly streams = new Map<string, StoredRecord[]>();
  readonly subscriptions: SubscriptionCall[] = [];
  readonly persistentCalls: PersistentCall[] = [];
  readonly batchAppendCalls: FakeCall[] = [];
  /** Unary requests by method name, in order (create, update, delete, getInfo, list, replayParked). */
  readonly requests: { method: string; request: unknown; connectionName: string | undefined }[] = [];
  /** How many calls of each kind (read, batchAppend, subscribeToAll, …) the clients made. */
  readonly callCounts = new Map<string, number>();
  /** Persistent subscription groups and their info response. */
  readonly groups = new Map<string, PersistentPb.SubscriptionInfo>();
  /** Scripted replies: returns an error to fail the unary call, or a response, or undefined for the default. */
  unary: Partial<Record<string, (request: unknown) => Error | unknown | undefined>> = {};
  onPersistentConnect: ((call: PersistentCall) => void) | null = null;
  /** Streams whose appends the server refuses (access denied). */
  readonly refuseAppendsTo = new Set<string>();
  onSubscribe: ((call: SubscriptionCall) => void) | null = null;
  private position = 1000n;

  constructor(options: DoubleOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.mode = options.subscriptions ?? 'auto';
  }

  private count(kind: string): void {
    this.callCounts.set(kind, (this.callCounts.get(kind) ?? 0) + 1);
  }

  /** A real EventStoreDBClient whose gRPC clients are this double. */
  client(connectionName?: string): EventStoreDBClient {
    const client = EventStoreDBClient.connectionString(`esdb://double:2113?tls=false${connectionName ? `&connectionName=${encodeURIComponent(connectionName)}` : ''}`);
    const internals = client as unknown as {
      getGRPCClient: (ctor: unknown) => Promise<unknown>;
      supports: () => Promise<boolean>;
    };
    const streams = this.streamsClient();
    const persistent = this.persistentClient();
    internals.getGRPCClient = async (ctor) => {
      if (ctor === streamsGrpc.StreamsClient) return streams;
      if (ctor === persistentGrpc.PersistentSubscriptionsClient) return persistent;
      throw new Error('the double serves streams and persistent subscriptions only');
    };
    internals.supports = async () => true;
    return client;
  }

  // --- the log ---------------------------------------------------------------------------------

  /** Appends records as the server would (used by batch appends and by tests to seed the log). */
  write(streamId: string, events: { id: string; type: string; contentType?: string; data: Uint8Array | object; metadata?: Uint8Array | object }[]): StoredRecord[] {
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    this.position += 100n;
    const commit = this.position;
    const out = events.map((e, i) => {
      const record: StoredRecord = {
        streamId,
        id: e.id,
        type: e.type,
        contentType: e.contentType ?? 'application/json',
        data: e.data instanceof Uint8Array ? e.data : Buffer.from(JSON.stringify(e.data)),
        metadata: e.metadata instanceof Uint8Array ? e.metadata : Buffer.from(JSON.stringify(e.metadata ?? {})),
        revision: BigInt(stream.length),
        commit,
        prepare: commit + BigInt(i),
        created: new Date(),
      };
      stream.push(record);
      this.log.push(record);
      return record;
    });
    if (this.mode === 'auto') for (const sub of this.subscriptions) if (!sub.call.finished) for (const r of out) if (this.matches(sub, r)) sub.send(r);
    return out;
  }

  private matches(sub: SubscriptionCall, r: StoredRecord): boolean {
    if (sub.filter?.streamPrefixes) return sub.filter.streamPrefixes.some((p) => r.streamId.startsWith(p));
    if (sub.filter?.typeRegex) return new RegExp(sub.filter.typeRegex).test(r.type);
    return true;
  }

  // --- protobuf messages as the server sends them ----------------------------------------------

  private recordedEvent<T extends StreamsPb.ReadResp.ReadEvent.RecordedEvent | PersistentPb.ReadResp.ReadEvent.RecordedEvent>(r: StoredRecord, message: T): T {
    const id = new sharedPb.UUID();
    id.setString(r.id);
    message.setId(id);
    const identifier = new sharedPb.StreamIdentifier();
    identifier.setStreamName(Buffer.from(r.streamId, 'utf8'));
    message.setStreamIdentifier(identifier);
    message.setStreamRevision(r.revision.toString());
    message.setCommitPosition(r.commit.toString());
    message.setPreparePosition(r.prepare.toString());
    message.getMetadataMap().set('type', r.type);
    message.getMetadataMap().set('content-type', r.contentType);
    message.getMetadataMap().set('created', (BigInt(r.created.getTime()) * TICKS_PER_MS).toString());
    message.setCustomMetadata(r.metadata);
    message.setData(r.data);
    return message;
  }

  /** The record a link event (`$>`, data "revision@stream") points to. */
  resolveLink(link: StoredRecord): StoredRecord | undefined {
    const [revision, ...name] = Buffer.from(link.data).toString('utf8').split('@');
    return this.streams.get(name.join('@'))?.[Number(revision)];
  }

  readEventMessage(r: StoredRecord, resolveLinks = false): StreamsPb.ReadResp {
    const event = new streamsPb.ReadResp.ReadEvent();
    const target = resolveLinks && r.type === '$>' ? this.resolveLink(r) : undefined;
    if (target) {
      event.setEvent(this.recordedEvent(target, new streamsPb.ReadResp.ReadEvent.RecordedEvent()));
      event.setLink(this.recordedEvent(r, new streamsPb.ReadResp.ReadEvent.RecordedEvent()));
    } else event.setEvent(this.recordedEvent(r, new streamsPb.ReadResp.ReadEvent.RecordedEvent()));
    event.setCommitPosition(r.commit.toString());
    const resp = new streamsPb.ReadResp();
    resp.setEvent(event);
    return resp;
  }

  // --- Streams service -------------------------------------------------------------------------

  private streamsClient() {
    return {
      getChannel: () => ({ close() {}, getTarget: () => 'dns:double:2113' }),
      read: (req: StreamsPb.ReadReq, metadata: Metadata) => {
        const stream = new ClientReadableStreamImpl<unknown>((x: unknown) => x);
        const call = new FakeCall();
        attach(stream, call, metadata);
        void this.serveRead(req, call);
        return stream;
      },
      batchAppend: (metadata: Metadata) => {
        this.count('batchAppend');
        const stream = new ClientDuplexStreamImpl<unknown, unknown>((x: unknown) => x as Buffer, (x: unknown) => x);
        const call = new FakeCall();
        attach(stream, call, metadata);
        this.batchAppendCalls.push(call);
        const pending = new Map<string, { options: StreamsPb.BatchAppendReq.Options | undefined; messages: StreamsPb.BatchAppendReq.ProposedMessage[] }>();
        call.onWrite = (message) => {
          const req = message as StreamsPb.BatchAppendReq;
          const correlation = req.getCorrelationId()!.getString();
          const entry = pending.get(correlation) ?? { options: undefined, messages: [] };
          pending.set(correlation, entry);
          if (req.hasOptions()) entry.options = req.getOptions();
          entry.messages.push(...req.getProposedMessagesList());
          if (req.getIsFinal()) {
            pending.delete(correlation);
            void this.serveAppend(call, correlation, entry.options!, entry.messages);
          }
        };
        return stream;
      },
    };
  }

  private async serveRead(req: StreamsPb.ReadReq, call: FakeCall): Promise<void> {
    const options = req.getOptions()!;
    if (options.hasSubscription()) return this.serveSubscription(options, call);
    this.count('read');
    if (this.latencyMs) await sleep(this.latencyMs);
    const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
    const count = Number(options.getCount());
    let records: StoredRecord[];
    if (options.hasStream()) {
      const so = options.getStream()!;
      const name = streamName(so.getStreamIdentifier());
      const stream = this.streams.get(name);
      if (!stream) {
        const notFound = new streamsPb.ReadResp.StreamNotFound();
        notFound.setStreamIdentifier(so.getStreamIdentifier());
        const resp = new streamsPb.ReadResp();
        resp.setStreamNotFound(notFound);
        call.deliver(resp);
        call.finish();
        return;
      }
      const from = so.hasStart() ? (backwards ? -1n : 0n) : so.hasEnd() ? (backwards ? BigInt(stream.length - 1) : BigInt(stream.length)) : BigInt(so.getRevision());
      records = backwards ? stream.filter((r) => r.revision <= from).reverse() : stream.filter((r) => r.revision >= from);
    } else {
      this.count('readAll');
      const ao = options.getAll()!;
      const position = ao.hasPosition() ? { commit: BigInt(ao.getPosition()!.getCommitPosition()), prepare: BigInt(ao.getPosition()!.getPreparePosition()) } : null;
      const cmp = (r: StoredRecord) => (r.commit === position!.commit ? Number(r.prepare - position!.prepare) : Number(r.commit - position!.commit));
      if (backwards) records = (ao.hasEnd() || !position ? this.log : this.log.filter((r) => cmp(r) < 0)).slice().reverse();
      else records = ao.hasStart() || !position ? this.log : this.log.filter((r) => cmp(r) >= 0);
    }
    for (const r of records.slice(0, count)) {
      this.count('eventsRead');
      call.deliver(this.readEventMessage(r, options.getResolveLinks()));
    }
    call.finish();
  }

  private async serveSubscription(options: StreamsPb.ReadReq.Options, call: FakeCall): Promise<void> {
    this.count('subscribeToAll');
    const ao = options.getAll()!;
    const from: SubscriptionCall['from'] = ao.hasStart()
      ? 'start'
      : ao.hasEnd()
        ? 'end'
        : { commit: BigInt(ao.getPosition()!.getCommitPosition()), prepare: BigInt(ao.getPosition()!.getPreparePosition()) };
    let filter: SubscriptionCall['filter'] = null;
    if (options.hasFilter()) {
      const f = options.getFilter()!;
      if (f.hasStreamIdentifier()) {
        const e = f.getStreamIdentifier()!;
        filter = e.getPrefixList().length ? { streamPrefixes: e.getPrefixList() } : { typeRegex: e.getRegex() };
      } else if (f.hasEventType()) {
        const e = f.getEventType()!;
        filter = e.getPrefixList().length ? { typeRegex: `^(?:${e.getPrefixList().join('|')})` } : { typeRegex: e.getRegex() };
      }
    }
    const sub: SubscriptionCall = {
      call,
      from,
      filter,
      send: (r) => call.deliver(this.readEventMessage(r)),
      caughtUp: () => {
        const resp = new streamsPb.ReadResp();
        resp.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
        call.deliver(resp);
      },
    };
    this.subscriptions.push(sub);
    if (this.latencyMs) await sleep(this.latencyMs);
    const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(`sub-${this.subscriptions.length}`);
    const resp = new streamsPb.ReadResp();
    resp.setConfirmation(confirmation);
    call.deliver(resp);
    if (this.mode === 'auto') {
      const after = (r: StoredRecord) =>
        from === 'start' ? true : from === 'end' ? false : r.commit > from.commit || (r.commit === from.commit && r.prepare > from.prepare);
      for (const r of this.log) if (after(r) && this.matches(sub, r)) sub.send(r);
      sub.caughtUp();
    }
    this.onSubscribe?.(sub);
  }

  private async serveAppend(call: FakeCall, correlation: string, options: StreamsPb.BatchAppendReq.Options, messages: StreamsPb.BatchAppendReq.ProposedMessage[]): Promise<void> {
    if (this.latencyMs) await sleep(this.latencyMs);
    if (call.finished) return;
    const name = streamName(options.getStreamIdentifier());
    const stream = this.streams.get(name);
    const head = stream ? BigInt(stream.length - 1) : null;
    const resp = new streamsPb.BatchAppendResp();
    const correlationId = new sharedPb.UUID();
    correlationId.setString(correlation);
    resp.setCorrelationId(correlationId);
    resp.setStreamIdentifier(options.getStreamIdentifier());
    const ids = messages.map((m) => m.getId()!.getString());
    if (this.refuseAppendsTo.has(name)) {
      const details = new Any();
      details.pack(new sharedPb.AccessDenied().serializeBinary(), 'event_store.client.AccessDenied');
      const error = new statusPb.Status();
      error.setCode(7);
      error.setMessage('Access denied.');
      error.setDetails(details);
      resp.setError(error);
      call.deliver(resp);
      return;
    }
    // The expectation as a revision after which the events go (-1: a new stream), or null for any.
    const expectedAfter = options.hasNoStream() ? -1n : options.hasStreamPosition() ? BigInt(options.getStreamPosition()) : null;
    const success = (last: StoredRecord) => {
      const s = new streamsPb.BatchAppendResp.Success();
      s.setCurrentRevision(last.revision.toString());
      const p = new sharedPb.AllStreamPosition();
      p.setCommitPosition(last.commit.toString());
      p.setPreparePosition(last.prepare.toString());
      s.setPosition(p);
      resp.setSuccess(s);
      call.deliver(resp);
    };
    // The server's idempotency check for an exact expectation: the same ids right after it.
    if (expectedAfter !== null && stream && head !== null && head > expectedAfter) {
      const following = stream.slice(Number(expectedAfter + 1n), Number(expectedAfter + 1n) + ids.length);
      if (following.length === ids.length && following.every((r, i) => r.id === ids[i])) return success(following[following.length - 1]!);
    }
    const ok =
      options.hasAny() ||
      (options.hasNoStream() && head === null) ||
      (options.hasStreamExists() && head !== null) ||
      (options.hasStreamPosition() && head !== null && head === BigInt(options.getStreamPosition()));
    if (!ok) {
      const wev = new sharedPb.WrongExpectedVersion();
      if (head === null) wev.setCurrentNoStream(new sharedPb.Empty());
      else wev.setCurrentStreamRevision(head.toString());
      if (options.hasStreamPosition()) wev.setExpectedStreamPosition(options.getStreamPosition());
      else if (options.hasNoStream()) wev.setExpectedNoStream(new sharedPb.Empty());
      else if (options.hasStreamExists()) wev.setExpectedStreamExists(new sharedPb.Empty());
      else wev.setExpectedAny(new sharedPb.Empty());
      const details = new Any();
      details.pack(wev.serializeBinary(), 'event_store.client.WrongExpectedVersion');
      const error = new statusPb.Status();
      error.setCode(9);
      error.setMessage('Wrong expected version.');
      error.setDetails(details);
      resp.setError(error);
      call.deliver(resp);
      return;
    }
    const written = this.write(
      name,
      messages.map((m) => ({
        id: m.getId()!.getString(),
        type: m.getMetadataMap().get('type')!,
        contentType: m.getMetadataMap().get('content-type')!,
        data: m.getData_asU8(),
        metadata: m.getCustomMetadata_asU8(),
      })),
    );
    success(written[written.length - 1]!);
  }

  // --- Persistent subscriptions service --------------------------------------------------------

  private persistentClient() {
    const unary = (method: string, fallback: (request: any) => unknown) => async (request: unknown, metadata: Metadata, _options: unknown, callback: UnaryCallback) => {
      this.count(method);
      this.requests.push({ method, request, connectionName: metadata.get('connection-name')[0]?.toString() });
      if (this.latencyMs) await sleep(this.latencyMs);
      const scripted = this.unary[method]?.(request);
      if (scripted instanceof Error) return callback(scripted);
      if (scripted !== undefined) return callback(null, scripted);
      try {
        callback(null, fallback(request));
      } catch (error) {
        callback(error);
      }
    };
    const notFound = (group: string) =>
      statusError(Status.NOT_FOUND, `Subscription group ${group} on stream $all does not exist.`, {
        exception: 'persistent-subscription-does-not-exist',
        'stream-name': '$all',
        'group-name': group,
      });
    return {
      getChannel: () => ({ close() {}, getTarget: () => 'dns:double:2113' }),
      create: unary('create', (req: PersistentPb.CreateReq) => {
        const name = req.getOptions()!.getGroupName();
        if (this.groups.has(name))
          throw statusError(Status.ALREADY_EXISTS, 'exists', { exception: 'persistent-subscription-exists', 'stream-name': '$all', 'group-name': name });
        const s = req.getOptions()!.getSettings()!;
        const info = new persistentPb.SubscriptionInfo();
        info.setEventSource('$all');
        info.setGroupName(name);
        info.setStatus('Live');
        info.setMaxRetryCount(s.getMaxRetryCount());
        info.setMessageTimeoutMilliseconds(s.getMessageTimeoutMs());
        info.setCheckPointAfterMilliseconds(s.getCheckpointAfterMs());
        info.setMinCheckPointCount(s.getMinCheckpointCount());
        info.setMaxCheckPointCount(s.getMaxCheckpointCount());
        info.setMaxSubscriberCount(s.getMaxSubscriberCount());
        info.setNamedConsumerStrategy(s.getConsumerStrategy());
        const all = req.getOptions()!.getAll();
        const at = all?.hasPosition() ? all.getPosition()! : null;
        info.setStartFrom(at ? `C:${at.getCommitPosition()}/P:${at.getPreparePosition()}` : all?.hasEnd() ? 'C:-1/P:-1' : 'C:0/P:0');
        info.setLastCheckpointedEventPosition('');
        info.setLastKnownEventPosition('');
        info.setTotalItems('0');
        info.setCountSinceLastMeasurement('0');
        info.setLiveBufferCount('0');
        info.setParkedMessageCount('0');
        this.groups.set(name, info);
        return new persistentPb.CreateResp();
      }),
      update: unary('update', (req: PersistentPb.UpdateReq) => {
        const name = req.getOptions()!.getGroupName();
        const info = this.groups.get(name);
        if (!info) throw notFound(name);
        const s = req.getOptions()!.getSettings()!;
        info.setMaxRetryCount(s.getMaxRetryCount());
        info.setMessageTimeoutMilliseconds(s.getMessageTimeoutMs());
        info.setCheckPointAfterMilliseconds(s.getCheckpointAfterMs());
        info.setMinCheckPointCount(s.getMinCheckpointCount());
        info.setMaxCheckPointCount(s.getMaxCheckpointCount());
        return new persistentPb.UpdateResp();
      }),
      delete: unary('delete', (req: PersistentPb.DeleteReq) => {
        const name = req.getOptions()!.getGroupName();
        if (!this.groups.delete(name)) throw notFound(name);
        return new persistentPb.DeleteResp();
      }),
      getInfo: unary('getInfo', (req: PersistentPb.GetInfoReq) => {
        const name = req.getOptions()!.getGroupName();
        const info = this.groups.get(name);
        if (!info) throw notFound(name);
        const resp = new persistentPb.GetInfoResp();
        resp.setSubscriptionInfo(info);
        return resp;
      }),
      list: unary('list', () => {
        // A server with no persistent subscriptions to $all answers NotFound, not an empty list.
        if (this.groups.size === 0) throw notFound('');
        const resp = new persistentPb.ListResp();
        resp.setSubscriptionsList([...this.groups.values()]);
        return resp;
      }),
      replayParked: unary('replayParked', (req: PersistentPb.ReplayParkedReq) => {
        const name = req.getOptions()!.getGroupName();
        if (!this.groups.has(name)) throw notFound(name);
        return new persistentPb.ReplayParkedResp();
      }),
      read: (metadata: Metadata) => {
        this.count('persistentRead');
        const stream = new ClientDuplexStreamImpl<unknown, unknown>((x: unknown) => x as Buffer, (x: unknown) => x);
        const call = new FakeCall();
        attach(stream, call, metadata);
        let connected: PersistentCall | null = null;
        call.onWrite = (message) => {
          const req = message as PersistentPb.ReadReq;
          if (!req.hasOptions() || connected) return;
          const group = req.getOptions()!.getGroupName();
          connected = {
            call,
            group,
            bufferSize: req.getOptions()!.getBufferSize(),
            confirm: () => {
              const confirmation = new persistentPb.ReadResp.SubscriptionConfirmation();
              confirmation.setSubscriptionId(`$all::${group}`);
              const resp = new persistentPb.ReadResp();
              resp.setSubscriptionConfirmation(confirmation);
              call.deliver(resp);
            },
            send: (r, retryCount = 0, link) => {
              const event = new persistentPb.ReadResp.ReadEvent();
              event.setEvent(this.recordedEvent(r, new persistentPb.ReadResp.ReadEvent.RecordedEvent()));
              if (link) event.setLink(this.recordedEvent(link, new persistentPb.ReadResp.ReadEvent.RecordedEvent()));
              event.setCommitPosition(r.commit.toString());
              event.setRetryCount(retryCount);
              const resp = new persistentPb.ReadResp();
              resp.setEvent(event);
              call.deliver(resp);
            },
            acks: () =>
              call.written.flatMap((m) => {
                const r = m as PersistentPb.ReadReq;
                return r.hasAck() ? r.getAck()!.getIdsList().map((id) => id.getString()) : [];
              }),
            nacks: () =>
              call.written.flatMap((m) => {
                const r = m as PersistentPb.ReadReq;
                if (!r.hasNack()) return [];
                const n = r.getNack()!;
                const action = ({ 0: 'unknown', 1: 'park', 2: 'retry', 3: 'skip', 4: 'stop' } as Record<number, string>)[n.getAction()]!;
                return [{ action, reason: n.getReason(), ids: n.getIdsList().map((id) => id.getString()) }];
              }),
          };
          this.persistentCalls.push(connected);
          if (!this.groups.has(group)) {
            call.finish(Status.NOT_FOUND, `Subscription group ${group} on stream $all does not exist.`, {
              exception: 'persistent-subscription-does-not-exist',
              'stream-name': '$all',
              'group-name': group,
            });
            return;
          }
          if (this.onPersistentConnect) this.onPersistentConnect(connected);
          else connected.confirm();
        };
        return stream;
      },
    };
  }

  /** How many batch-append requests for this stream the clients have sent (answered or not). */
  sentAppends(streamId: string): number {
    return this.batchAppendCalls
      .flatMap((c) => c.written as StreamsPb.BatchAppendReq[])
      .filter((m) => m.hasOptions() && streamName(m.getOptions()!.getStreamIdentifier()) === streamId).length;
  }

  /** Ends every open call as a server restart or a lost connection does. */
  dropConnections(details = 'Connection dropped'): void {
    for (const sub of this.subscriptions) sub.call.finish(Status.UNAVAILABLE, details);
    for (const p of this.persistentCalls) p.call.finish(Status.UNAVAILABLE, details);
    for (const b of this.batchAppendCalls) b.finish(Status.UNAVAILABLE, details);
  }
}
