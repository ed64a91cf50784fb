/**
 * Process managers (DESIGN §2): the cross-aggregate flows, driven by one persistent subscription
 * group, idempotent and restartable, plus three timers (hold expiry, payment reconciliation, the
 * payment deadline of pay-and-book reservations).
 *
 *   const pm = await startProcessManagers({ store, sql, payments: { gateway, provider: 'toss' }, privacy: vault });
 *   …
 *   await pm.stop();
 *
 * Reactions (lib/process-managers/reactions.ts): a requested reservation confirms its hold (safety
 * net) and asks for its deposit; a captured deposit is recorded on the reservation (which confirms
 * an instant booking); a cancellation or rejection releases the slot and refunds what the frozen
 * policy says; a no-show refunds what is not forfeited; a discharge completes the reservation and
 * asks the bill; a reschedule's old hold is released. Every command id derives from the triggering
 * event id, so redelivery (at-least-once) appends nothing twice.
 *
 * Finding the days with expired holds: the process manager keeps pm_pending_holds (SlotHeld inserts,
 * HoldConfirmed / SlotReleased delete; a SlotHeld whose day stream already has its hold's confirmation
 * or release deletes its row again, so a redelivery brings back no row) and the timer sends
 * ExpireHolds to the days with a row past its expiry. Chosen over a readAll of recent SlotHeld
 * events because it is exact whatever the timer's downtime (a readAll window would either miss holds placed before a long outage or rescan
 * the log), costs one indexed query per tick, and is derived data: rebuilt by replaying the group,
 * and a row lost or stale only delays a release (PlaceHold releases expired holds itself when it
 * needs the capacity; the sweep reconciles rows with the day's state).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { DomainError, EventSchemaError, reservation, streams } from '../domain';
import type { ActiveReservation } from '../domain/reservation';
import { GroupAlreadyExists, type EventStore, type GroupConsumer, type GroupMessage, type GroupSettings, type RecordedEvent } from '../eventstore';
import type { PaymentGateway } from '../payments/gateway';
import {
  confirmHold,
  expireHolds,
  loadStream,
  reconcilePendingPayments,
  SYSTEM_ACTOR,
  type CommandDeps,
  type CommandMetadata,
  type PersonalDataProtection,
  type ReconcileResult,
} from '../commands';
import { expireUnpaidReservations, type DeadlineResult } from './deadlines';
import { createReactions, PROCESS_MANAGER_EVENT_TYPES } from './reactions';

export { createReactions, PROCESS_MANAGER_EVENT_TYPES } from './reactions';
export type { ReconcileResult } from '../commands';
export type { DeadlineResult } from './deadlines';

export const PROCESS_MANAGER_GROUP = 'process-managers';

export interface ProcessManagerOptions {
  store: EventStore;
  /** The application database (pm_pending_holds, pm_pending_payments). */
  sql: postgres.Sql;
  /** The payment gateway; deposits and refunds need it (reactions that do are retried, then parked, without it). */
  payments?: { gateway: PaymentGateway; provider: string };
  privacy?: PersonalDataProtection;
  clock?: () => Date;
  /** Default 'process-managers'. */
  groupName?: string;
  /** Settings of the group when this call creates it. */
  groupSettings?: Partial<GroupSettings>;
  /** How often the hold-expiry and payment-reconciliation timers run (default 30 s; 0: only on demand). */
  timerIntervalMs?: number;
  /** When the reconciliation first asks the gateway about a requested deposit (default 2 min after the request). */
  paymentCheckDelayMs?: number;
  /** Checks without an outcome before a payment is parked for a person on the admin page (default 30). */
  maxPaymentChecks?: number;
  /** Consumer id in the group's info (default random). */
  consumerId?: string;
  /** Errors that are handled (retried, parked, or a timer tick that failed), for logging. */
  onError?: (error: unknown, context: { event?: RecordedEvent; timer?: string }) => void;
  /** Hold lifetime passed to the commands (default 15 min). */
  holdTtlMinutes?: number;
}

export interface SweepResult {
  /** Clinic days sent ExpireHolds. */
  days: number;
  /** Holds released as expired. */
  released: number;
  /** Holds confirmed instead, because their reservation had been recorded. */
  confirmed: number;
}

export interface ProcessManagers {
  readonly consumer: GroupConsumer;
  /** Releases expired holds now (the timer calls it every timerIntervalMs). */
  sweepExpiredHolds(): Promise<SweepResult>;
  /** Asks the gateway about deposits whose outcome is not recorded yet (the timer calls it); parks for a person what stays unknown. */
  reconcilePayments(): Promise<ReconcileResult>;
  /** Cancels pay-and-book reservations still unpaid past their clinic's payment deadline (the timer calls it). */
  expireUnpaidReservations(): Promise<DeadlineResult>;
  /** Handles one event as the group would (tests, replays). */
  react(event: RecordedEvent): Promise<void>;
  /** Stops the timers and the group consumer (writes its checkpoint, releases the group). */
  stop(): Promise<void>;
}

function timerMetadata(name: string): CommandMetadata {
  const commandId = `${name}:${randomUUID()}`;
  return { actor: SYSTEM_ACTOR, clinicId: null, ip: null, userAgent: null, commandId, correlationId: commandId, causationId: commandId };
}

export async function startProcessManagers(options: ProcessManagerOptions): Promise<ProcessManagers> {
  const { store, sql } = options;
  const clock = options.clock ?? (() => new Date());
  const onError = options.onError ?? (() => {});
  const deps: CommandDeps = { store, clock, privacy: options.privacy, payments: options.payments, holdTtlMinutes: options.holdTtlMinutes };
  const { react } = createReactions({ deps, sql, paymentCheckDelayMs: options.paymentCheckDelayMs });
  const groupName = options.groupName ?? PROCESS_MANAGER_GROUP;

  try {
    await store.groups.create(groupName, { ...options.groupSettings, filter: { eventTypes: [...PROCESS_MANAGER_EVENT_TYPES] }, startFrom: 'start' });
  } catch (error) {
    if (!(error instanceof GroupAlreadyExists)) throw error;
  }

  async function handleMessage(message: GroupMessage): Promise<void> {
    try {
      await react(message.event);
    } catch (error) {
      onError(error, { event: message.event });
      // A refusal by the domain (or an unreadable event) will not change on retry: park it, visible
      // on the admin page, replayable once fixed. Anything else (database, gateway timeout) is retried
      // with a growing pause, then parked by the group after maxRetryCount.
      if (error instanceof DomainError || error instanceof EventSchemaError) {
        const code = error instanceof DomainError ? error.code : 'event.schema';
        await message.nack('park', `${code}: ${error.message}`);
      } else {
        await sleep(Math.min(2000, 100 * 2 ** message.retryCount));
        await message.nack('retry', error instanceof Error ? error.message : String(error));
      }
      return;
    }
    await message.ack();
  }

  const consumer = store.groups.connect(groupName, handleMessage, {
    consumerId: options.consumerId,
    onError: (error) => onError(error, { timer: 'group' }),
  });

  async function sweepExpiredHolds(): Promise<SweepResult> {
    const now = clock();
    type HoldRow = { stream_id: string; hold_id: string; clinic_id: string; day: string; reservation_id: string };
    const rows = await sql<HoldRow[]>`
      select stream_id, hold_id, clinic_id, day, reservation_id from pm_pending_holds
      where expires_at <= ${now.toISOString()}::timestamptz order by expires_at limit 1000`;
    const byStream = new Map<string, HoldRow[]>();
    for (const row of rows) byStream.set(row.stream_id, [...(byStream.get(row.stream_id) ?? []), row]);
    const result: SweepResult = { days: 0, released: 0, confirmed: 0 };
    for (const [streamId, holds] of byStream) {
      const { clinic_id: clinicId, day } = holds[0]!;
      // A hold whose reservation was recorded (a booking that crashed before its last step) is confirmed, not expired.
      for (const h of holds) {
        const r = await loadStream(store, reservation.reservationDecider, streams.reservation(h.reservation_id));
        const active = r.state as ActiveReservation;
        if (r.state.status !== 'none' && active.holdId === h.hold_id && (active.status === 'requested' || active.status === 'confirmed')) {
          try {
            const confirmed = await confirmHold(deps, { clinicId, day, holdId: h.hold_id, reservationId: h.reservation_id }, timerMetadata('hold-sweep'));
            result.confirmed += confirmed.events.length;
          } catch (error) {
            if (!(error instanceof DomainError)) throw error; // released already: ExpireHolds has nothing to do for it either
          }
        }
      }
      const expired = await expireHolds(deps, { clinicId, day }, timerMetadata('hold-sweep'));
      result.days += 1;
      result.released += expired.events.length;
      // Keep only the rows of holds that are still unconfirmed on that day.
      const pending = Object.values(expired.state.holds).filter((h) => !h.confirmed).map((h) => h.holdId);
      await sql`delete from pm_pending_holds where stream_id = ${streamId} and not (hold_id = any(${pending}::text[]))`;
    }
    return result;
  }

  function reconcilePayments(): Promise<ReconcileResult> {
    return reconcilePendingPayments(deps, timerMetadata('payment-reconcile'), {
      sql,
      maxChecks: options.maxPaymentChecks,
      onError: (error) => onError(error, { timer: 'payment-reconcile' }),
    });
  }

  const expireUnpaid = () => expireUnpaidReservations({ deps, sql, onError: (error) => onError(error, { timer: 'payment-deadline' }) });

  // Timers: one tick at a time; a failed tick is reported and the next one tries again.
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = (async () => {
      try {
        await sweepExpiredHolds();
      } catch (error) {
        onError(error, { timer: 'hold-sweep' });
      }
      try {
        await reconcilePayments();
      } catch (error) {
        onError(error, { timer: 'payment-reconcile' });
      }
      try {
        await expireUnpaid();
      } catch (error) {
        onError(error, { timer: 'payment-deadline' });
      }
    })().finally(() => {
      running = null;
    });
  };
  const interval = options.timerIntervalMs ?? 30_000;
  const timer = interval > 0 ? setInterval(tick, interval) : null;
  timer?.unref();

  return {
    consumer,
    sweepExpiredHolds,
    reconcilePayments,
    expireUnpaidReservations: expireUnpaid,
    react,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
      await consumer.stop();
    },
  };
}
