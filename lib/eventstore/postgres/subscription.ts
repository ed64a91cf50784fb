/** Catch-up subscription to $all on PostgreSQL: pages from a checkpoint, then live on wake-ups. */
import type { CatchUpSubscription, EventHandler, Position, SubscribeToAllOptions } from '../types';
import { Wakeable } from './notifier';
import type { PostgresEventStore } from './store';

const PAGE_SIZE = 500;
/** Safety net when no notification arrives (e.g. the appending process died before its NOTIFY). */
const IDLE_POLL_MS = 1000;
/**
 * While committed events wait behind an older running transaction, look again this often (growing).
 * The transaction holding the horizon may be any of this database's (an append elsewhere, a
 * projection's batch) and nothing notifies when it ends, so this poll is what ends the wait; capped
 * at 16 ms (it was 100 ms, a part of live delivery's tail under load, docs/PERFORMANCE.md), at most
 * ≈ 60 cheap reads a second while held back.
 */
const HELD_BACK_MIN_MS = 2;
export const HELD_BACK_MAX_MS = 16;

export class PgCatchUpSubscription implements CatchUpSubscription {
  private checkpoint: Position | undefined;
  private stopped = false;
  private readonly wakeable = new Wakeable();
  private unsubscribe: (() => void) | null = null;
  readonly done: Promise<void>;
  /** Pages read, and of them those that stopped at the horizon with committed events behind it (for the benchmark). */
  readonly stats = { pages: 0, heldBack: 0 };

  constructor(
    private readonly store: PostgresEventStore,
    private readonly handler: EventHandler,
    private readonly options: SubscribeToAllOptions,
  ) {
    this.done = this.run();
    // An unobserved handler error must not become an unhandled rejection; callers await `done`.
    this.done.catch(() => {});
  }

  get lastPosition(): Position | undefined {
    return this.lastDelivered;
  }
  private lastDelivered: Position | undefined;

  private async run(): Promise<void> {
    try {
      this.unsubscribe = await this.store.notifier.subscribe((reason) => {
        if (reason.kind === 'appended') this.wakeable.wake();
      });
      const from = this.options.fromPosition ?? 'start';
      this.checkpoint = from === 'start' ? { commit: 0n, prepare: 0n } : from === 'end' ? await this.store.endPosition() : from;
      let caughtUp = false;
      let heldBackDelay = HELD_BACK_MIN_MS;
      while (!this.stopped) {
        let page: Awaited<ReturnType<PostgresEventStore['readPageAfter']>>;
        try {
          page = await this.store.readPageAfter(this.checkpoint, this.options.filter, PAGE_SIZE);
        } catch (error) {
          // Database unavailable for a moment: report and retry (handler errors, below, end the subscription).
          if (this.stopped || this.store.isClosed) return;
          this.store.onError(error);
          await this.wakeable.wait(IDLE_POLL_MS);
          continue;
        }
        this.stats.pages++;
        if (page.heldBack) this.stats.heldBack++;
        for (const event of page.events) {
          if (this.stopped) return;
          await this.handler(event);
          this.checkpoint = event.position;
          this.lastDelivered = event.position;
        }
        if (this.stopped) return;
        if (page.events.length === PAGE_SIZE) continue;
        if (!caughtUp) {
          caughtUp = true;
          this.options.onCaughtUp?.();
        }
        if (page.heldBack) {
          await this.wakeable.wait(heldBackDelay);
          heldBackDelay = Math.min(HELD_BACK_MAX_MS, heldBackDelay * 2);
        } else {
          heldBackDelay = HELD_BACK_MIN_MS;
          await this.wakeable.wait(IDLE_POLL_MS);
        }
      }
    } finally {
      this.unsubscribe?.();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeable.wake();
    await this.done.catch(() => {});
  }
}
