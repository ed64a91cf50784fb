/**
 * Wake-ups for subscribers and group consumers: LISTEN/NOTIFY across processes, direct calls within
 * this process.
 *
 * The store sends NOTIFY after an append commits, from its own short transaction, and throttles them:
 * at most one NOTIFY in flight and at most one per `minIntervalMs` (5 ms) per process; appends in
 * between are covered by exactly one more NOTIFY sent when the interval is over (trailing edge), so a
 * subscriber elsewhere learns of an append at most ≈ 5 ms + one round trip later. Without the throttle
 * 16 concurrent writers sent a NOTIFY (a transaction and a round trip) for nearly every append. It deliberately does not NOTIFY
 * inside the appending transaction: PostgreSQL takes a database-wide lock at commit for transactions
 * that notified and holds it through the WAL flush, so every append would commit one after the other
 * and concurrent appends could no longer share a flush (group commit). A NOTIFY-only transaction writes
 * no WAL, so it does not wait for the disk. If a process dies between commit and NOTIFY, subscribers
 * elsewhere still see the event on their next idle poll (1 s).
 */
import type postgres from 'postgres';

export const CHANNEL = 'yeyak_eventstore';

export type WakeReason = { kind: 'appended' } | { kind: 'group'; group: string; what: 'released' | 'replay' | 'changed' };

type Listener = (reason: WakeReason) => void;

export class Notifier {
  private readonly listeners = new Set<Listener>();
  private listening: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  /** idle; waiting (timer set for the trailing NOTIFY); sending (one in flight). */
  private appendNotify: 'idle' | 'waiting' | 'sending' = 'idle';
  /** An append happened since the last NOTIFY was sent (while waiting or sending). */
  private appendPending = false;
  private lastSentAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly onError: (error: unknown) => void = () => {},
    /** Minimum time between two append NOTIFYs of this process. */
    private readonly minIntervalMs = 5,
  ) {}

  /** Starts LISTEN (once) and registers a listener; returns the unregister function. */
  async subscribe(listener: Listener): Promise<() => void> {
    this.listeners.add(listener);
    if (!this.listening) {
      this.listening = this.sql
        .listen(CHANNEL, (payload) => this.dispatch(parse(payload)))
        .then((req) => {
          this.unlisten = req.unlisten;
        });
    }
    await this.listening;
    return () => this.listeners.delete(listener);
  }

  private dispatch(reason: WakeReason | null): void {
    if (!reason) return;
    for (const l of this.listeners) {
      try {
        l(reason);
      } catch (e) {
        this.onError(e);
      }
    }
  }

  /** After an append committed: wake local subscribers now, others through NOTIFY (throttled). */
  appended(): void {
    this.dispatch({ kind: 'appended' });
    if (this.closed) return;
    this.appendPending = true;
    if (this.appendNotify === 'idle') this.schedule();
  }

  /** From idle with an append pending: send now, or when the interval since the last NOTIFY is over. */
  private schedule(): void {
    const wait = this.lastSentAt + this.minIntervalMs - performance.now();
    if (wait <= 0) {
      this.sendAppended();
      return;
    }
    this.appendNotify = 'waiting';
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sendAppended();
    }, wait);
  }

  private sendAppended(): void {
    this.appendNotify = 'sending';
    this.appendPending = false;
    this.lastSentAt = performance.now();
    this.sql`select pg_notify(${CHANNEL}, 'a')`
      .catch((e) => this.onError(e))
      .finally(() => {
        this.appendNotify = 'idle';
        if (this.appendPending && !this.closed) this.schedule();
      });
  }

  async group(group: string, what: 'released' | 'replay' | 'changed'): Promise<void> {
    if (this.closed) return;
    await this.sql`select pg_notify(${CHANNEL}, ${`g:${what}:${group}`})`;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.appendPending) {
      // An append is still waiting for its NOTIFY: send it now rather than leave others to their 1 s poll.
      this.appendPending = false;
      await this.sql`select pg_notify(${CHANNEL}, 'a')`.catch((e) => this.onError(e));
    }
    if (this.unlisten) await this.unlisten().catch(() => {});
  }
}

function parse(payload: string): WakeReason | null {
  if (payload === 'a') return { kind: 'appended' };
  const m = /^g:(released|replay|changed):(.*)$/s.exec(payload);
  if (m) return { kind: 'group', what: m[1] as 'released' | 'replay' | 'changed', group: m[2]! };
  return null;
}

/** A sleep that ends early when woken. */
export class Wakeable {
  private resolve: (() => void) | null = null;
  private woken = false;

  wake(): void {
    this.woken = true;
    const r = this.resolve;
    this.resolve = null;
    r?.();
  }

  /** Resolves after `ms` or at the next wake (immediately if woken since the last wait). */
  wait(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.resolve === done) self.resolve = null;
        self.woken = false;
        resolve();
      }
      this.resolve = done;
    });
  }
}
