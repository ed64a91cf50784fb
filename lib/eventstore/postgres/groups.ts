/**
 * Persistent subscription groups on PostgreSQL.
 *
 * One active consumer per group, by lease: es_groups.lease_owner / lease_epoch / lease_expires_at.
 * A consumer takes the lease when it is free or expired (bumping the epoch), renews it every third of
 * its length, and every write it makes (checkpoint, parking, removing a replayed parked event) is
 * fenced on owner and epoch, so a consumer that lost its lease (paused, partitioned) cannot overwrite
 * its successor's progress. A clean stop releases the lease and notifies, so a standby takes over at
 * once; a dead consumer's lease expires (default 5 s) and a standby polling every second takes over.
 * (An advisory lock held by a session would free up instantly on a crash but not on a hung process or
 * a half-open connection, and would not fence a consumer that lost it; the lease does both.)
 *
 * Delivery: events after the durable checkpoint, in (xid, position) order below the horizon (as the
 * catch-up subscription), at most maxInFlight unacked at a time. Retries, the in-flight set and retry
 * counts live in the active consumer's memory; the checkpoint (everything up to it acked, skipped or
 * parked) and parked events are durable. After a crash the next consumer restarts from the checkpoint:
 * at-least-once delivery.
 */
import { randomUUID } from 'node:crypto';
import { GroupAlreadyExists, GroupNotFound, InvalidEvent } from '../errors';
import { comparePositions, DEFAULT_GROUP_SETTINGS, normalizeFilter, resolveSettings } from '../envelope';
import { HELD_BACK_MAX_MS } from './subscription';
import type {
  ConnectGroupOptions,
  CreateGroupOptions,
  EventFilter,
  GroupConsumer,
  GroupHandler,
  GroupInfo,
  GroupMessage,
  GroupSettings,
  NackAction,
  ParkedEvent,
  PersistentGroups,
  Position,
  RecordedEvent,
  UpdateGroupOptions,
} from '../types';
import { Wakeable } from './notifier';
import { EVENT_COLUMNS, pgPosition, toRecordedEvent, type EventRow } from './rows';
import type { PostgresEventStore } from './store';

function validateGroupName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) throw new InvalidEvent(`Invalid group name ${JSON.stringify(name)}`);
}

interface GroupRow {
  name: string;
  filter: EventFilter;
  settings: Partial<GroupSettings>;
  checkpoint_xid: string;
  checkpoint_position: string;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  parked_count: string;
}

function toInfo(row: GroupRow): GroupInfo {
  const checkpoint = { commit: BigInt(row.checkpoint_xid), prepare: BigInt(row.checkpoint_position) };
  const leaseLive = row.lease_owner !== null && row.lease_expires_at !== null && row.lease_expires_at.getTime() > Date.now();
  return {
    name: row.name,
    filter: row.filter,
    settings: resolveSettings(row.settings),
    checkpoint: checkpoint.prepare === 0n ? undefined : checkpoint,
    activeConsumer: leaseLive ? { id: row.lease_owner!, leaseExpiresAt: row.lease_expires_at! } : null,
    parkedCount: Number(row.parked_count),
  };
}

export class PgGroups implements PersistentGroups {
  private readonly consumers = new Set<PgGroupConsumer>();

  constructor(readonly store: PostgresEventStore) {}

  /** Lease length for consumers of this store (PostgreSQL-specific knob; tests shorten it). */
  leaseMs = 5000;

  async create(name: string, options: CreateGroupOptions = {}): Promise<void> {
    validateGroupName(name);
    const { filter, startFrom = 'start', ...settings } = options;
    const resolved = resolveSettings(settings);
    const from: Position =
      startFrom === 'start' ? { commit: 0n, prepare: 0n } : startFrom === 'end' ? await this.store.endPosition() : startFrom;
    const sql = this.store.sql;
    const rows = await sql`
      insert into es_groups (name, filter, settings, checkpoint_xid, checkpoint_position)
      values (${name}, ${sql.json(normalizeFilter(filter) as never)}, ${sql.json(resolved as never)},
              ${from.commit.toString()}::xid8, ${from.prepare.toString()}::bigint)
      on conflict (name) do nothing returning name`;
    if (rows.length === 0) throw new GroupAlreadyExists(name);
  }

  async update(name: string, options: UpdateGroupOptions): Promise<void> {
    validateGroupName(name);
    const sql = this.store.sql;
    const [row] = await sql<{ settings: Partial<GroupSettings> }[]>`select settings from es_groups where name = ${name}`;
    if (!row) throw new GroupNotFound(name);
    const resolved = resolveSettings(row.settings, options);
    const updated = await sql`update es_groups set settings = ${sql.json(resolved as never)}, updated_at = now() where name = ${name} returning name`;
    if (updated.length === 0) throw new GroupNotFound(name);
    await this.store.notifier.group(name, 'changed');
  }

  async delete(name: string): Promise<void> {
    validateGroupName(name);
    const rows = await this.store.sql`delete from es_groups where name = ${name} returning name`;
    if (rows.length === 0) throw new GroupNotFound(name);
    await this.store.notifier.group(name, 'changed');
  }

  private async rows(name?: string): Promise<GroupRow[]> {
    const sql = this.store.sql;
    return sql<GroupRow[]>`
      select g.name, g.filter, g.settings, g.checkpoint_xid::text, g.checkpoint_position::text, g.lease_owner, g.lease_expires_at,
             (select count(*) from es_parked p where p.group_name = g.name)::text as parked_count
      from es_groups g ${name === undefined ? sql`` : sql`where g.name = ${name}`} order by g.name`;
  }

  async list(): Promise<GroupInfo[]> {
    return (await this.rows()).map(toInfo);
  }

  async info(name: string): Promise<GroupInfo> {
    const [row] = await this.rows(name);
    if (!row) throw new GroupNotFound(name);
    return toInfo(row);
  }

  connect(name: string, handler: GroupHandler, options: ConnectGroupOptions = {}): GroupConsumer {
    validateGroupName(name);
    const consumer = new PgGroupConsumer(this, name, handler, options);
    this.consumers.add(consumer);
    void consumer.finished.finally(() => this.consumers.delete(consumer));
    return consumer;
  }

  async listParked(name: string, options: { maxCount?: number } = {}): Promise<ParkedEvent[]> {
    const sql = this.store.sql;
    const [group] = await sql`select 1 from es_groups where name = ${name}`;
    if (!group) throw new GroupNotFound(name);
    const rows = await sql<(EventRow & { reason: string; retry_count: number; parked_at: Date; replay_requested_at: Date | null })[]>`
      select ${sql.unsafe(EVENT_COLUMNS)}, p.reason, p.retry_count, p.parked_at, p.replay_requested_at
      from es_parked p join es_events e on e.position = p.event_position
      where p.group_name = ${name} order by e.xid, e.position limit ${options.maxCount ?? 1000}`;
    return rows.map((r) => ({
      event: toRecordedEvent(r),
      reason: r.reason,
      retryCount: r.retry_count,
      parkedAt: r.parked_at,
      replayRequested: r.replay_requested_at !== null,
    }));
  }

  async replayParked(name: string): Promise<number> {
    const sql = this.store.sql;
    const [group] = await sql`select 1 from es_groups where name = ${name}`;
    if (!group) throw new GroupNotFound(name);
    const rows = await sql`
      update es_parked set replay_requested_at = now()
      where group_name = ${name} and replay_requested_at is null returning event_position`;
    await this.store.notifier.group(name, 'replay');
    return rows.length;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.stop()));
  }
}

// ---------------------------------------------------------------------------------------------

interface Entry {
  event: RecordedEvent;
  retryCount: number;
  /** settling: an ack/nack's durable write (parking, removing a replayed parked row) is under way. */
  state: 'queued' | 'inflight' | 'settling' | 'done';
  /** The lease session it was read in; an entry of an earlier session is never settled. */
  session: number;
  /** Increments per delivery; a late ack/nack of an earlier delivery is ignored. */
  delivery: number;
  deadline: number;
  replayed: boolean;
}

class LeaseLost extends Error {}

const STANDBY_POLL_MS = 1000;
const IDLE_POLL_MS = 1000;
const FETCH_LIMIT = 100;

export class PgGroupConsumer implements GroupConsumer {
  readonly consumerId: string;
  private stopped = false;
  private aborted = false;
  private isActive = false;
  private readonly wakeable = new Wakeable();
  readonly finished: Promise<void>;

  // Active state (reset whenever the lease is taken).
  private epoch = '0';
  private settings: GroupSettings = DEFAULT_GROUP_SETTINGS;
  private filter: EventFilter = {};
  private outstanding: Entry[] = [];
  private queue: Entry[] = [];
  private replays = new Map<string, Entry>();
  private inflight = 0;
  private readCursor: Position = { commit: 0n, prepare: 0n };
  private acked: Position = { commit: 0n, prepare: 0n };
  private persisted: Position = { commit: 0n, prepare: 0n };
  private lastPersistAt = 0;
  private leaseLost = false;
  private lastRenewedAt = 0;
  private replayWanted = false;
  private settingsChanged = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private deliverySeq = 0;
  private session = 0;

  constructor(
    private readonly groups: PgGroups,
    readonly group: string,
    private readonly handler: GroupHandler,
    private readonly options: ConnectGroupOptions,
  ) {
    this.consumerId = options.consumerId ?? `consumer-${randomUUID()}`;
    this.finished = this.run();
    this.finished.catch(() => {});
  }

  get active(): boolean {
    return this.isActive && !this.stopped;
  }

  private get sql() {
    return this.groups.store.sql;
  }

  private get leaseMs(): number {
    return this.groups.leaseMs;
  }

  private report(error: unknown): void {
    try {
      this.options.onError?.(error);
    } catch {
      /* ignore */
    }
    this.groups.store.onError(error);
  }

  private async run(): Promise<void> {
    const unsubscribe = await this.groups.store.notifier.subscribe((reason) => {
      if (reason.kind === 'appended') this.wakeable.wake();
      else if (reason.group === this.group) {
        if (reason.what === 'replay') this.replayWanted = true;
        if (reason.what === 'changed') this.settingsChanged = true;
        this.wakeable.wake();
      }
    });
    try {
      while (!this.stopped) {
        let acquired = false;
        try {
          acquired = await this.tryAcquire();
        } catch (error) {
          if (error instanceof GroupNotFound) {
            this.report(error);
            return;
          }
          if (this.stopped) return;
          this.report(error);
        }
        if (!acquired) {
          await this.wakeable.wait(Math.min(STANDBY_POLL_MS, this.leaseMs / 2));
          continue;
        }
        try {
          this.isActive = true;
          this.options.onActive?.();
          await this.activeLoop();
        } catch (error) {
          if (!(error instanceof LeaseLost) && !this.stopped) this.report(error);
        } finally {
          this.isActive = false;
          this.stopHeartbeat();
        }
        if (!this.stopped) await this.wakeable.wait(Math.min(STANDBY_POLL_MS, this.leaseMs / 2));
      }
    } finally {
      unsubscribe();
    }
  }

  private async tryAcquire(): Promise<boolean> {
    const sql = this.sql;
    const [row] = await sql<
      { lease_epoch: string; filter: EventFilter; settings: Partial<GroupSettings>; checkpoint_xid: string; checkpoint_position: string }[]
    >`
      update es_groups set lease_owner = ${this.consumerId}, lease_epoch = lease_epoch + 1,
        lease_expires_at = now() + ${this.leaseMs} * interval '1 millisecond'
      where name = ${this.group} and (lease_owner is null or lease_expires_at < now() or lease_owner = ${this.consumerId})
      returning lease_epoch::text, filter, settings, checkpoint_xid::text, checkpoint_position::text`;
    if (!row) {
      const [exists] = await sql`select 1 from es_groups where name = ${this.group}`;
      if (!exists) throw new GroupNotFound(this.group);
      return false;
    }
    if (this.stopped) {
      await this.release(row.lease_epoch);
      return false;
    }
    this.epoch = row.lease_epoch;
    this.session++;
    this.settings = resolveSettings(row.settings);
    this.filter = row.filter;
    const checkpoint = { commit: BigInt(row.checkpoint_xid), prepare: BigInt(row.checkpoint_position) };
    this.outstanding = [];
    this.queue = [];
    this.replays = new Map();
    this.inflight = 0;
    this.readCursor = checkpoint;
    this.acked = checkpoint;
    this.persisted = checkpoint;
    this.lastPersistAt = Date.now();
    this.leaseLost = false;
    this.lastRenewedAt = Date.now();
    this.replayWanted = true;
    this.settingsChanged = false;
    this.startHeartbeat();
    return true;
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const epoch = this.epoch;
    this.heartbeat = setInterval(() => {
      if (this.stopped || this.leaseLost) return;
      this.sql`
        update es_groups set lease_expires_at = now() + ${this.leaseMs} * interval '1 millisecond'
        where name = ${this.group} and lease_owner = ${this.consumerId} and lease_epoch = ${epoch}::bigint returning 1`
        .then((rows) => {
          if (rows.length === 0) this.loseLease();
          else this.lastRenewedAt = Date.now();
        })
        .catch((error) => {
          this.report(error);
          // Cannot renew: stop delivering before the lease could have expired for others.
          if (Date.now() - this.lastRenewedAt > this.leaseMs * 0.8) this.loseLease();
        });
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private loseLease(): void {
    this.leaseLost = true;
    this.wakeable.wake();
  }

  private checkLease(): void {
    if (this.leaseLost) throw new LeaseLost();
    if (Date.now() - this.lastRenewedAt > this.leaseMs * 0.8) {
      this.leaseLost = true;
      throw new LeaseLost();
    }
  }

  private async activeLoop(): Promise<void> {
    let heldBackDelay = 2;
    while (!this.stopped) {
      this.checkLease();
      if (this.settingsChanged) {
        this.settingsChanged = false;
        const [row] = await this.sql<{ settings: Partial<GroupSettings> }[]>`select settings from es_groups where name = ${this.group}`;
        if (!row) throw new GroupNotFound(this.group);
        this.settings = resolveSettings(row.settings);
      }
      if (this.replayWanted) {
        this.replayWanted = false;
        await this.loadReplays();
      }
      await this.expireTimeouts();
      if (this.stopped) break;

      if (this.inflight < this.settings.maxInFlight && this.queue.length > 0) {
        const entry = this.queue.shift()!;
        await this.deliver(entry);
        continue;
      }
      let waitMs = IDLE_POLL_MS;
      if (this.inflight < this.settings.maxInFlight && this.queue.length === 0) {
        const page = await this.groups.store.readPageAfter(this.readCursor, this.filter, FETCH_LIMIT);
        for (const event of page.events) {
          const entry: Entry = { event, retryCount: 0, state: 'queued', session: this.session, delivery: 0, deadline: 0, replayed: false };
          this.outstanding.push(entry);
          this.queue.push(entry);
          this.readCursor = event.position;
        }
        if (page.events.length > 0) {
          heldBackDelay = 2;
          continue;
        }
        if (page.heldBack) {
          waitMs = heldBackDelay;
          // Capped like the catch-up subscription's (subscription.ts HELD_BACK_MAX_MS, why there).
          heldBackDelay = Math.min(HELD_BACK_MAX_MS, heldBackDelay * 2);
        }
      }
      await this.maybePersistCheckpoint(false);
      // Sleep until woken (append, ack, notification), the next message deadline or checkpoint time.
      const now = Date.now();
      let nextDeadline = Infinity;
      for (const e of this.outstanding) if (e.state === 'inflight') nextDeadline = Math.min(nextDeadline, e.deadline);
      for (const e of this.replays.values()) if (e.state === 'inflight') nextDeadline = Math.min(nextDeadline, e.deadline);
      if (comparePositions(this.acked, this.persisted) > 0) {
        nextDeadline = Math.min(nextDeadline, this.lastPersistAt + this.settings.checkpointAfterMs);
      }
      waitMs = Math.max(1, Math.min(waitMs, nextDeadline - now, this.leaseMs / 3));
      await this.wakeable.wait(waitMs);
    }
    if (!this.aborted && !this.leaseLost) {
      await this.maybePersistCheckpoint(true);
      await this.release(this.epoch);
    }
  }

  private async loadReplays(): Promise<void> {
    const rows = await this.sql<(EventRow & { retry_count: number })[]>`
      select ${this.sql.unsafe(EVENT_COLUMNS)}, p.retry_count
      from es_parked p join es_events e on e.position = p.event_position
      where p.group_name = ${this.group} and p.replay_requested_at is not null
      order by e.xid, e.position limit 1000`;
    for (const row of rows) {
      if (this.replays.has(row.position)) continue;
      const entry: Entry = { event: toRecordedEvent(row), retryCount: 0, state: 'queued', session: this.session, delivery: 0, deadline: 0, replayed: true };
      this.replays.set(row.position, entry);
      this.queue.push(entry);
    }
  }

  private async expireTimeouts(): Promise<void> {
    const now = Date.now();
    const expired: Entry[] = [];
    for (const e of this.outstanding) if (e.state === 'inflight' && e.deadline <= now) expired.push(e);
    for (const e of this.replays.values()) if (e.state === 'inflight' && e.deadline <= now) expired.push(e);
    // A failed park write leaves the entry to be delivered again (reported, not fatal to the loop).
    for (const e of expired) await this.settle(e, e.delivery, 'retry', 'message timeout').catch((error) => this.report(error));
  }

  private async deliver(entry: Entry): Promise<void> {
    const delivery = ++this.deliverySeq;
    entry.delivery = delivery;
    entry.state = 'inflight';
    entry.deadline = Date.now() + this.settings.messageTimeoutMs;
    this.inflight++;
    const message: GroupMessage = {
      event: entry.event,
      retryCount: entry.retryCount,
      replayed: entry.replayed,
      ack: () => this.settle(entry, delivery, 'ack', ''),
      nack: (action: NackAction, reason: string) => this.settle(entry, delivery, action, reason),
    };
    try {
      await this.handler(message);
    } catch (error) {
      await this.settle(entry, delivery, 'retry', error instanceof Error ? error.message : String(error)).catch((e) => this.report(e));
    }
  }

  /**
   * ack / nack of one delivery. Stale deliveries (timed out, lease lost, an earlier lease session) are
   * ignored. An ack/nack with a durable write (parking; removing a replayed parked row) counts as done
   * only once that write succeeded: if it fails the entry is queued again and delivered anew (so the
   * park is attempted again), and the checkpoint cannot pass it meanwhile; the error is rethrown.
   */
  private async settle(entry: Entry, delivery: number, action: 'ack' | NackAction, reason: string): Promise<void> {
    if (this.aborted || entry.session !== this.session || entry.delivery !== delivery || entry.state !== 'inflight') return;
    if (action === 'retry' && entry.retryCount + 1 > this.settings.maxRetryCount) {
      action = 'park';
      reason = `${reason} (retried ${entry.retryCount} times, maxRetryCount ${this.settings.maxRetryCount})`;
    }
    if (action === 'retry') {
      entry.state = 'queued';
      entry.retryCount++;
      this.inflight--;
      this.queue.unshift(entry);
      this.wakeable.wake();
      return;
    }
    // Durable effects first (fenced on our lease), then the in-memory bookkeeping.
    entry.state = 'settling';
    const session = this.session;
    try {
      const position = entry.event.position.prepare.toString();
      if (action === 'park') {
        const rows = await this.sql`
          insert into es_parked (group_name, event_position, reason, retry_count)
          select ${this.group}, ${position}::bigint, ${reason}, ${entry.retryCount}
          where exists (select 1 from es_groups where name = ${this.group} and lease_owner = ${this.consumerId} and lease_epoch = ${this.epoch}::bigint)
          on conflict (group_name, event_position) do update
            set reason = excluded.reason, retry_count = excluded.retry_count, parked_at = now(), replay_requested_at = null
          returning 1`;
        if (rows.length === 0) this.loseLease();
      } else if (entry.replayed) {
        const rows = await this.sql`
          delete from es_parked p using es_groups g
          where p.group_name = ${this.group} and p.event_position = ${position}::bigint
            and g.name = p.group_name and g.lease_owner = ${this.consumerId} and g.lease_epoch = ${this.epoch}::bigint
          returning 1`;
        if (rows.length === 0 && !this.leaseLost) {
          const [still] = await this.sql`select 1 from es_groups where name = ${this.group} and lease_owner = ${this.consumerId} and lease_epoch = ${this.epoch}::bigint`;
          if (!still) this.loseLease();
        }
      }
    } catch (error) {
      // Not written: not done. Deliver it again (this session only; a new session re-reads from the checkpoint).
      if (session === this.session && !this.aborted && entry.state === 'settling') {
        entry.state = 'queued';
        this.inflight--;
        this.queue.unshift(entry);
        this.wakeable.wake();
      }
      throw error;
    }
    if (session !== this.session || entry.state !== 'settling') return;
    entry.state = 'done';
    this.inflight--;
    if (entry.replayed) this.replays.delete(entry.event.position.prepare.toString());
    else this.advance();
    this.wakeable.wake();
  }

  private advance(): void {
    while (this.outstanding.length > 0 && this.outstanding[0]!.state === 'done') {
      this.acked = this.outstanding.shift()!.event.position;
    }
  }

  private async maybePersistCheckpoint(force: boolean): Promise<void> {
    if (comparePositions(this.acked, this.persisted) <= 0) return;
    if (!force && Date.now() - this.lastPersistAt < this.settings.checkpointAfterMs) return;
    const target = this.acked;
    const p = pgPosition(target);
    const rows = await this.sql`
      update es_groups set checkpoint_xid = ${p.xid}::xid8, checkpoint_position = ${p.position}::bigint, updated_at = now()
      where name = ${this.group} and lease_owner = ${this.consumerId} and lease_epoch = ${this.epoch}::bigint returning 1`;
    if (rows.length === 0) {
      this.loseLease();
      throw new LeaseLost();
    }
    this.persisted = target;
    this.lastPersistAt = Date.now();
  }

  private async release(epoch: string): Promise<void> {
    await this.sql`
      update es_groups set lease_owner = null, lease_expires_at = null
      where name = ${this.group} and lease_owner = ${this.consumerId} and lease_epoch = ${epoch}::bigint`;
    await this.groups.store.notifier.group(this.group, 'released');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeable.wake();
    await this.finished.catch(() => {});
    this.stopHeartbeat();
  }

  async abort(): Promise<void> {
    this.aborted = true;
    this.stopped = true;
    this.stopHeartbeat();
    this.wakeable.wake();
    // Not waiting for a running handler: a dead process would not either.
  }
}
