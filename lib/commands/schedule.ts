/** Clinic-day capacity commands (stream schedule-<clinicId>-<day>). */
import { schedule, streams, type DayKey } from '../domain';
import type { RegisteredClinic } from '../domain/clinic';
import type { ReleaseReason } from '../domain/schedule';
import { authorize, type WriterRole } from './authorize';
import { run, type CommandDeps } from './deps';
import type { CommandMetadata } from './metadata';

/**
 * A clinic day's holds are changed by the booking commands (authorised there, as the patient or
 * staff who books), by the process managers' timers, and directly only by staff of the clinic.
 */
const SCHEDULE_WRITERS: readonly WriterRole[] = ['staff', 'admin'];
const authorizeDay = (meta: CommandMetadata, command: string, input: ClinicDay) => authorize(meta, command, { clinicId: input.clinicId }, SCHEDULE_WRITERS);

export interface ClinicDay {
  clinicId: string;
  day: DayKey;
}

export interface PlaceHoldInput extends ClinicDay {
  holdId: string;
  reservationId: string;
  startsAt: string;
  durationMinutes: number;
  replacesHoldId?: string;
  /** A reschedule: the reservation's frozen minimum notice (see the PlaceHold command). */
  minimumNoticeHours?: number;
}

/** PlaceHold with the clinic's booking facts (the caller has loaded the clinic). */
export async function placeHold(deps: CommandDeps, clinic: RegisteredClinic, input: PlaceHoldInput, meta: CommandMetadata) {
  authorizeDay(meta, 'PlaceHold', input);
  return holdSlots(deps, clinic, input, meta);
}

/** The booking commands' step (they authorised the actor on the reservation already). */
export const holdSlots = (deps: CommandDeps, clinic: RegisteredClinic, input: PlaceHoldInput, meta: CommandMetadata) =>
  run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'PlaceHold', ...input }, meta, (_l, now) => ({
    now,
    clinic,
    holdTtlMinutes: deps.holdTtlMinutes,
  }), undefined, DAY_STEP);

/**
 * The booking commands' steps on a clinic day follow each other on one stream (hold, then confirm):
 * each decides on the state this process last wrote there, read or not since (the append's expected
 * revision proves it, docs/commands.md), which saves a read of the day per step.
 */
const DAY_STEP = { reuseHead: true } as const;

type HoldInput = ClinicDay & { holdId: string; reservationId: string };
type ReleaseInput = ClinicDay & { holdId: string; reason: Exclude<ReleaseReason, 'expired'> };

export async function confirmHold(deps: CommandDeps, input: HoldInput, meta: CommandMetadata) {
  authorizeDay(meta, 'ConfirmHold', input);
  return confirmHeld(deps, input, meta);
}

/** The booking commands' step (authorised there). */
export const confirmHeld = (deps: CommandDeps, input: HoldInput, meta: CommandMetadata) =>
  run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'ConfirmHold', holdId: input.holdId, reservationId: input.reservationId }, meta, undefined, undefined, DAY_STEP);

export async function releaseHold(deps: CommandDeps, input: ReleaseInput, meta: CommandMetadata) {
  authorizeDay(meta, 'ReleaseHold', input);
  return releaseHeld(deps, input, meta);
}

/** The booking commands' step (authorised there). */
export const releaseHeld = (deps: CommandDeps, input: ReleaseInput, meta: CommandMetadata) =>
  run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'ReleaseHold', holdId: input.holdId, reason: input.reason }, meta, undefined, undefined, DAY_STEP);

/** Releases every unconfirmed hold of the day past its expiry (the hold-expiry timer sends it). */
export async function expireHolds(deps: CommandDeps, input: ClinicDay, meta: CommandMetadata) {
  authorizeDay(meta, 'ExpireHolds', input);
  return run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'ExpireHolds' }, meta);
}
