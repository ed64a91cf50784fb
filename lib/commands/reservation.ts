/**
 * Reservation commands (stream reservation-<id>), including the two that span streams:
 * booking (hold the slot on the clinic day, then record the reservation, then confirm the hold) and
 * rescheduling (hold the new slot first, record the move, then release the old hold).
 */
import { clinicDay, DomainError, minutesBetween, NotFoundError, reservation, schedule, streams, visit } from '../domain';
import { bookingTerms, requireBookableTreatment, type RegisteredClinic } from '../domain/clinic';
import type { ActiveReservation, ReservationCommand, ReservationEvent, ReservationKind, ReservationState } from '../domain/reservation';
import type { Position } from '../eventstore';
import { loadClinic, nowOf, run, type CommandDeps } from './deps';
import { ForbiddenError, HoldExpiredError } from './errors';
import { laterPosition, loadStream, type CommandResult } from './handle';
import { actingStaffId, authorize, authorizeOn, type WriterRole } from './authorize';
import { derivedId, subCommand, type CommandMetadata } from './metadata';
import { confirmHeld, holdSlots, releaseHeld } from './schedule';
import { visitReservationFacts } from './visit';

const CLINIC_COMMANDS: ReadonlySet<ReservationCommand['type']> = new Set(['RequestReservation', 'RescheduleReservation', 'RecordNoShow']);

/**
 * Who may run each reservation command (besides the system actor): the patient on their own
 * reservation, staff of the reservation's clinic. Deposits are recorded by the process managers only.
 */
const RESERVATION_WRITERS: Readonly<Record<ReservationCommand['type'], readonly WriterRole[]>> = {
  RequestReservation: ['patient', 'staff'],
  RescheduleReservation: ['patient', 'staff'],
  CancelReservation: ['patient', 'staff'],
  ConfirmReservation: ['staff'],
  RejectReservation: ['staff'],
  RecordNoShow: ['staff'],
  CheckInReservation: ['staff'],
  CompleteReservation: ['staff'],
  RecordDepositPaid: [],
};

/** The policy step of a reservation: its clinic and patient (the command's, for a new one). */
export const reservationSubject = (state: ReservationState, command?: ReservationCommand) =>
  state.status !== 'none'
    ? { clinicId: (state as ActiveReservation).clinicId, patientId: (state as ActiveReservation).patientId }
    : command?.type === 'RequestReservation'
      ? { clinicId: command.clinicId, patientId: command.patientId }
      : null;

/**
 * One command on one reservation stream; loads the clinic when the decider needs it. A booking passes
 * `booking`: the clinic it has just loaded (its hold was decided on it), used by the first decision
 * instead of loading the clinic a second time (a decision taken again after a conflict loads it), and
 * the reservation id is new, so its stream is not read first (`assumeNew`: should it exist, the append
 * fails and the stream is read and the command decided again).
 */
export function reservationCommand(
  deps: CommandDeps,
  reservationId: string,
  command: ReservationCommand,
  meta: CommandMetadata,
  booking?: { readonly clinic: RegisteredClinic },
) {
  let preloaded = booking?.clinic;
  return run(
    deps,
    reservation.reservationDecider,
    streams.reservation(reservationId),
    command,
    meta,
    async (loaded, now) => {
      if (!CLINIC_COMMANDS.has(command.type)) return { now };
      const clinicId = command.type === 'RequestReservation' ? command.clinicId : (loaded.state as ActiveReservation).clinicId;
      if (!clinicId) return { now }; // no reservation: the decider refuses with reservation.not_found
      const clinic = preloaded && preloaded.clinicId === clinicId ? preloaded : await loadClinic(deps, clinicId);
      preloaded = undefined; // once: a decision taken again reads the clinic afresh
      return { now, clinic };
    },
    authorizeOn(meta, command.type, RESERVATION_WRITERS[command.type], (state: ReservationState) => reservationSubject(state, command)),
    { assumeNew: booking !== undefined },
  );
}

export type ReservationResult = CommandResult<ReservationEvent, ReservationState>;

// ── Booking ─────────────────────────────────────────────────────────────────────────────────────

export interface BookReservationInput {
  reservationId: string;
  clinicId: string;
  patientId: string;
  treatmentId: string;
  kind: ReservationKind;
  /** ISO instant of the start (on the clinic's slot grid). */
  startsAt: string;
  note?: string;
}

export interface BookingResult {
  readonly reservationId: string;
  readonly holdId: string;
  readonly day: string;
  /** The reservation as recorded (ReservationRequested, and ReservationConfirmed for an instant booking with nothing to pay). */
  readonly reservation: ReservationResult;
  /** The latest position written by any step (for read-your-writes). */
  readonly position: Position | null;
  /** True when this command id had completed before and nothing was appended now. */
  readonly duplicate: boolean;
  /** Attempts the hold took on the clinic day (1 without contention; each retry followed a WrongExpectedVersion). */
  readonly holdAttempts: number;
}

/**
 * Book: hold the slot on `schedule-<clinicId>-<day>` with its expected revision (a full slot is
 * refused here, synchronously: schedule.slot_over_capacity), record the reservation, confirm the hold.
 * Each step has its own command id (`<commandId>/hold`, `/reserve`, `/confirm`), so retrying the
 * command with the same id after a crash finishes the steps not done and repeats none.
 * A hold left by a crash between the first two steps expires (process managers' hold-expiry timer).
 */
export async function bookReservation(deps: CommandDeps, input: BookReservationInput, meta: CommandMetadata): Promise<BookingResult> {
  // Before the hold: a patient books only as themselves, staff only in their clinic.
  authorize(meta, 'RequestReservation', { clinicId: input.clinicId, patientId: input.patientId }, RESERVATION_WRITERS.RequestReservation);
  const clinic = await loadClinic(deps, input.clinicId);
  const treatment = requireBookableTreatment(clinic, input.treatmentId);
  // Refused kinds (consult first on a pay-and-book only treatment) before any hold; the hold is the kind's length.
  const { durationMinutes } = bookingTerms(treatment, input.kind);
  const day = clinicDay(input.startsAt);
  const holdId = derivedId('hold', meta.commandId);
  const reserveMeta = subCommand(meta, 'reserve');

  const hold = await holdSlots(
    deps,
    clinic,
    { clinicId: input.clinicId, day, holdId, reservationId: input.reservationId, startsAt: input.startsAt, durationMinutes },
    subCommand(meta, 'hold'),
  );
  if (!schedule.holdOf(hold.state, holdId)) {
    // Our hold is gone (it expired before a retried command got here): unless the reservation was
    // recorded in the meantime (then the steps below return their first results), book again.
    const recorded = await loadStream(deps.store, reservation.reservationDecider, streams.reservation(input.reservationId));
    if (!recorded.events.some((e) => e.metadata.commandId === reserveMeta.commandId)) {
      throw new HoldExpiredError({ reservationId: input.reservationId, holdId, day });
    }
  }

  let reserved: ReservationResult;
  try {
    reserved = await reservationCommand(
      deps,
      input.reservationId,
      {
        type: 'RequestReservation',
        reservationId: input.reservationId,
        clinicId: input.clinicId,
        patientId: input.patientId,
        treatmentId: input.treatmentId,
        kind: input.kind,
        startsAt: input.startsAt,
        holdId,
        ...(input.note === undefined ? {} : { note: input.note }),
      },
      reserveMeta,
      { clinic },
    );
  } catch (error) {
    // Refused (e.g. the reservation id is taken, or is another patient's): give the seat back now rather than at expiry.
    if (error instanceof DomainError || error instanceof ForbiddenError) await releaseHeld(deps, { clinicId: input.clinicId, day, holdId, reason: 'cancelled' }, subCommand(meta, 'release'));
    throw error;
  }

  let confirmed;
  try {
    confirmed = await confirmHeld(deps, { clinicId: input.clinicId, day, holdId, reservationId: input.reservationId }, subCommand(meta, 'confirm'));
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    // The hold expired and was released between the two appends: the reservation has no seat.
    await reservationCommand(
      deps,
      input.reservationId,
      { type: 'CancelReservation', by: 'staff', reason: 'The held time expired before the booking was completed.' },
      subCommand(meta, 'void'),
    );
    throw new HoldExpiredError({ reservationId: input.reservationId, holdId, day });
  }

  return {
    reservationId: input.reservationId,
    holdId,
    day,
    reservation: reserved,
    position: laterPosition(hold.position, reserved.position, confirmed.position),
    duplicate: hold.duplicate && reserved.duplicate && (confirmed.duplicate || confirmed.events.length === 0),
    holdAttempts: hold.attempts,
  };
}

// ── Rescheduling ────────────────────────────────────────────────────────────────────────────────

export interface RescheduleReservationInput {
  reservationId: string;
  startsAt: string;
  by: 'patient' | 'staff';
  staffId?: string;
}

export interface RescheduleResult {
  readonly reservationId: string;
  readonly holdId: string;
  readonly day: string;
  readonly reservation: ReservationResult;
  readonly position: Position | null;
}

/**
 * Reschedule: hold the new slot first (same day: one append that holds the new slots and releases
 * the old hold, so a move may overlap its own old slots), record ReservationRescheduled, confirm the
 * new hold, then (another day) release the old hold. A refusal of the move happens before any hold.
 */
export async function rescheduleReservation(deps: CommandDeps, input: RescheduleReservationInput, meta: CommandMetadata): Promise<RescheduleResult> {
  const streamId = streams.reservation(input.reservationId);
  const loaded = await loadStream(deps.store, reservation.reservationDecider, streamId);
  if (loaded.state.status === 'none') throw new NotFoundError('reservation', { reservationId: input.reservationId });
  const current = loaded.state as ActiveReservation;
  // Before any hold: the patient's own reservation, or staff of its clinic acting as themselves.
  authorize(meta, 'RescheduleReservation', reservationSubject(current)!, RESERVATION_WRITERS.RescheduleReservation);
  const staffId = actingStaffId(meta, 'RescheduleReservation', input.by, input.staffId);
  const clinic = await loadClinic(deps, current.clinicId);
  const holdId = derivedId('hold', meta.commandId);
  const moveMeta = subCommand(meta, 'reschedule');
  const command: ReservationCommand = {
    type: 'RescheduleReservation',
    startsAt: input.startsAt,
    holdId,
    by: input.by,
    ...(staffId === undefined ? {} : { staffId }),
  };

  const alreadyMoved = loaded.events.find((e) => e.metadata.commandId === moveMeta.commandId);
  // The same decision the reservation will make, before touching any schedule: refusals cost nothing.
  if (!alreadyMoved) {
    const dry = reservation.reservationDecider.decide(command, loaded.state, { now: nowOf(deps), clinic });
    if (dry.length === 0) {
      const last = loaded.events.at(-1);
      const none: ReservationResult = {
        streamId,
        events: [],
        nextExpectedRevision: last?.revision ?? null,
        position: last?.position ?? null,
        duplicate: false,
        state: loaded.state,
        attempts: 1,
      };
      return { reservationId: input.reservationId, holdId: current.holdId, day: current.day, reservation: none, position: none.position };
    }
  }

  // Where the reservation was before this command (from its first run's event when retried).
  const previous = alreadyMoved
    ? (alreadyMoved.data as { previousDay: string; previousHoldId: string })
    : { previousDay: current.day, previousHoldId: current.holdId };
  const day = clinicDay(input.startsAt);
  const sameDay = day === previous.previousDay;
  const durationMinutes = minutesBetween(current.startsAt, current.endsAt);

  const held = await holdSlots(
    deps,
    clinic,
    {
      clinicId: current.clinicId,
      day,
      holdId,
      reservationId: input.reservationId,
      startsAt: input.startsAt,
      durationMinutes,
      ...(sameDay ? { replacesHoldId: previous.previousHoldId } : {}),
      // The day checks the notice the reservation froze, as the reservation's own decision did.
      minimumNoticeHours: current.policy.minimumNoticeHours,
    },
    subCommand(meta, 'hold'),
  );

  let moved: ReservationResult;
  try {
    moved = await reservationCommand(deps, input.reservationId, command, moveMeta);
  } catch (error) {
    if (error instanceof DomainError) {
      await releaseHeld(deps, { clinicId: current.clinicId, day, holdId, reason: 'cancelled' }, subCommand(meta, 'release-new'));
    }
    throw error;
  }
  const confirmed = await confirmHeld(deps, { clinicId: current.clinicId, day, holdId, reservationId: input.reservationId }, subCommand(meta, 'confirm'));
  const released = sameDay
    ? null
    : await releaseHeld(
        deps,
        { clinicId: current.clinicId, day: previous.previousDay, holdId: previous.previousHoldId, reason: 'rescheduled' },
        subCommand(meta, 'release'),
      );
  return {
    reservationId: input.reservationId,
    holdId,
    day,
    reservation: moved,
    position: laterPosition(held.position, moved.position, confirmed.position, released?.position),
  };
}

// ── Single-stream reservation commands ──────────────────────────────────────────────────────────

/** Staff commands record the acting staff member's own id (ForbiddenError for another's). */
const staffOf = (meta: CommandMetadata, command: string, staffId: string) => actingStaffId(meta, command, 'staff', staffId) ?? staffId;

export const confirmReservation = async (deps: CommandDeps, input: { reservationId: string; staffId: string }, meta: CommandMetadata) =>
  reservationCommand(deps, input.reservationId, { type: 'ConfirmReservation', staffId: staffOf(meta, 'ConfirmReservation', input.staffId) }, meta);

export const rejectReservation = async (deps: CommandDeps, input: { reservationId: string; staffId: string; reason: string }, meta: CommandMetadata) =>
  reservationCommand(
    deps,
    input.reservationId,
    { type: 'RejectReservation', staffId: staffOf(meta, 'RejectReservation', input.staffId), reason: input.reason },
    meta,
  );

export const recordDepositPaid = (deps: CommandDeps, input: { reservationId: string; paymentId: string; amountKrw: number }, meta: CommandMetadata) =>
  reservationCommand(deps, input.reservationId, { type: 'RecordDepositPaid', paymentId: input.paymentId, amountKrw: input.amountKrw }, meta);

/** Cancels; the process managers release the hold and refund `refundDueKrw` under the frozen policy. */
export async function cancelReservation(
  deps: CommandDeps,
  input: { reservationId: string; by: 'patient' | 'staff'; staffId?: string; reason: string },
  meta: CommandMetadata,
) {
  const staffId = actingStaffId(meta, 'CancelReservation', input.by, input.staffId);
  return reservationCommand(
    deps,
    input.reservationId,
    { type: 'CancelReservation', by: input.by, reason: input.reason, ...(staffId === undefined ? {} : { staffId }) },
    meta,
  );
}

export const recordNoShow = async (deps: CommandDeps, input: { reservationId: string; staffId: string }, meta: CommandMetadata) =>
  reservationCommand(deps, input.reservationId, { type: 'RecordNoShow', staffId: staffOf(meta, 'RecordNoShow', input.staffId) }, meta);

export const completeReservation = (deps: CommandDeps, input: { reservationId: string }, meta: CommandMetadata) =>
  reservationCommand(deps, input.reservationId, { type: 'CompleteReservation' }, meta);

/**
 * Check-in: CheckInReservation (confirmed only) and RecordArrival on visit-<visitId> with the same
 * visitId, as two steps (`/check-in`, `/arrival`) of one command.
 */
export async function checkInReservation(
  deps: CommandDeps,
  input: { reservationId: string; visitId: string; staffId?: string },
  meta: CommandMetadata,
): Promise<{ reservation: ReservationResult; visit: CommandResult<visit.VisitEvent, visit.VisitState>; position: Position | null }> {
  const staffId = input.staffId === undefined ? undefined : staffOf(meta, 'CheckInReservation', input.staffId);
  const checkedIn = await reservationCommand(deps, input.reservationId, { type: 'CheckInReservation', visitId: input.visitId }, subCommand(meta, 'check-in'));
  const r = checkedIn.state as ActiveReservation;
  const arrived = await run(
    deps,
    visit.visitDecider,
    streams.visit(input.visitId),
    {
      type: 'RecordArrival',
      visitId: input.visitId,
      clinicId: r.clinicId,
      patientId: r.patientId,
      reservationId: input.reservationId,
      ...(staffId === undefined ? {} : { staffId }),
    },
    subCommand(meta, 'arrival'),
    // The arrival checks its link to the reservation just checked in (same clinic, patient and visit).
    async (_loaded, now) => ({ now, reservation: visitReservationFacts(r) }),
    // The reservation's check-in above was authorised (staff of its clinic); the visit is at that clinic.
    authorizeOn(meta, 'RecordArrival', ['staff'], () => ({ clinicId: r.clinicId, patientId: r.patientId })),
  );
  return { reservation: checkedIn, visit: arrived, position: laterPosition(checkedIn.position, arrived.position) };
}
