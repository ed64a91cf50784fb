/** Clinic-day capacity commands (stream schedule-<clinicId>-<day>). */
import { schedule, streams, type DayKey } from '../domain';
import type { RegisteredClinic } from '../domain/clinic';
import type { ReleaseReason } from '../domain/schedule';
import { run, type CommandDeps } from './deps';
import type { CommandMetadata } from './metadata';

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
}

/** PlaceHold with the clinic's booking facts (the caller has loaded the clinic). */
export const placeHold = (deps: CommandDeps, clinic: RegisteredClinic, input: PlaceHoldInput, meta: CommandMetadata) =>
  run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'PlaceHold', ...input }, meta, (_l, now) => ({
    now,
    clinic,
    holdTtlMinutes: deps.holdTtlMinutes,
  }));

export const confirmHold = (deps: CommandDeps, input: ClinicDay & { holdId: string; reservationId: string }, meta: CommandMetadata) =>
  run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'ConfirmHold', holdId: input.holdId, reservationId: input.reservationId }, meta);

export const releaseHold = (
  deps: CommandDeps,
  input: ClinicDay & { holdId: string; reason: Exclude<ReleaseReason, 'expired'> },
  meta: CommandMetadata,
) => run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'ReleaseHold', holdId: input.holdId, reason: input.reason }, meta);

/** Releases every unconfirmed hold of the day past its expiry (the hold-expiry timer sends it). */
export const expireHolds = (deps: CommandDeps, input: ClinicDay, meta: CommandMetadata) =>
  run(deps, schedule.scheduleDecider, streams.schedule(input.clinicId, input.day), { type: 'ExpireHolds' }, meta);
