import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import { clinicDay, iso } from '../shared/time';
import type { ClinicCommand } from './commands';
import { ClosureInPastError, ConsultDurationMissingError, DepositExceedsPriceError, TreatmentNotFoundError, TreatmentUnlistedError } from './errors';
import { clinicEvent as ev, type ClinicEvent } from './events';
import { assertValidOpeningHours } from './rules';
import { withDetails, type ClinicState, type RegisteredClinic, type Treatment } from './state';
import type { TreatmentDetailChanges } from './values';

export interface ClinicContext {
  readonly now: Date;
}

function registered(state: ClinicState): RegisteredClinic {
  if (state.status !== 'registered') throw new NotFoundError('clinic');
  return state;
}

export function requireTreatment(state: RegisteredClinic, treatmentId: string): Treatment {
  const t = state.treatments[treatmentId];
  if (!t) throw new TreatmentNotFoundError({ clinicId: state.clinicId, treatmentId });
  return t;
}

/** A treatment that can be booked now: listed and offered. */
export function requireBookableTreatment(state: RegisteredClinic, treatmentId: string): Treatment {
  const t = requireTreatment(state, treatmentId);
  if (!t.listed) throw new TreatmentUnlistedError({ clinicId: state.clinicId, treatmentId });
  return t;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const definedOnly = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Closures are for today (Seoul) or later: a past day's bookings happened under its old hours. */
function assertNotPast(day: string, now: Date): void {
  const today = clinicDay(now);
  if (day < today) throw new ClosureInPastError({ day, today });
}

/** The detail changes that change something, with the values they replace (null: was not set). */
function detailDiff(t: Treatment, changes: TreatmentDetailChanges): { details: TreatmentDetailChanges; previous: TreatmentDetailChanges } {
  const details: Record<string, unknown> = {};
  const previous: Record<string, unknown> = {};
  const current = t as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const before = current[key] ?? null;
    if (sameJson(before, value)) continue;
    details[key] = value;
    previous[key] = before;
  }
  return { details, previous };
}

/**
 * Clinic catalogue decisions. Re-sending a command that changes nothing yields no events
 * (idempotent retries); registering twice with different content is refused.
 */
export function decideClinic(command: ClinicCommand, state: ClinicState, context: ClinicContext): ClinicEvent[] {
  switch (command.type) {
    case 'RegisterClinic': {
      const { type: _t, ...data } = command;
      if (state.status === 'registered') {
        const { status: _s, treatments: _tr, settings: _se, closedDays: _cd, ...current } = state;
        if (sameJson(current, data)) return [];
        throw new AlreadyExistsError('clinic', { clinicId: state.clinicId });
      }
      assertValidOpeningHours(data.openingHours);
      return [ev('ClinicRegistered', data)];
    }
    case 'ListTreatment': {
      const clinic = registered(state);
      const { type: _t, ...given } = command;
      const data = { ...given, taxCategory: given.taxCategory ?? ('taxable' as const) };
      if (data.depositKrw > data.priceKrw) {
        throw new DepositExceedsPriceError({ priceKrw: data.priceKrw, depositKrw: data.depositKrw });
      }
      if (data.bookingKinds.includes('consult-first') && data.consultDurationMinutes === undefined) {
        throw new ConsultDurationMissingError({ treatmentId: data.treatmentId });
      }
      const existing = clinic.treatments[data.treatmentId];
      if (existing) {
        const { listed, ...details } = existing;
        if (listed && sameJson(details, data)) return [];
        throw new AlreadyExistsError('treatment', { treatmentId: data.treatmentId });
      }
      return [ev('TreatmentListed', data)];
    }
    case 'ChangeTreatmentPrice': {
      const clinic = registered(state);
      const t = requireTreatment(clinic, command.treatmentId);
      const depositKrw = command.depositKrw ?? t.depositKrw;
      if (depositKrw > command.priceKrw) {
        throw new DepositExceedsPriceError({ priceKrw: command.priceKrw, depositKrw });
      }
      if (command.priceKrw === t.priceKrw && depositKrw === t.depositKrw) return [];
      return [
        ev('TreatmentPriceChanged', {
          treatmentId: t.treatmentId,
          previousPriceKrw: t.priceKrw,
          priceKrw: command.priceKrw,
          previousDepositKrw: t.depositKrw,
          depositKrw,
          effectiveAt: iso(context.now),
        }),
      ];
    }
    case 'ChangeTreatmentDetails': {
      const clinic = registered(state);
      const t = requireTreatment(clinic, command.treatmentId);
      if (!t.listed) throw new TreatmentUnlistedError({ clinicId: clinic.clinicId, treatmentId: t.treatmentId });
      const { type: _t, treatmentId, ...changes } = command;
      const { details, previous } = detailDiff(t, changes);
      if (Object.keys(details).length === 0) return [];
      const after = withDetails(t, details);
      if (after.bookingKinds.includes('consult-first') && after.consultDurationMinutes === undefined) {
        throw new ConsultDurationMissingError({ treatmentId });
      }
      return [ev('TreatmentDetailsChanged', { treatmentId, details, previous })];
    }
    case 'UnlistTreatment': {
      const t = requireTreatment(registered(state), command.treatmentId);
      return t.listed ? [ev('TreatmentUnlisted', { treatmentId: t.treatmentId })] : [];
    }
    case 'SetOpeningHours': {
      const clinic = registered(state);
      assertValidOpeningHours(command.openingHours);
      if (sameJson(clinic.openingHours, command.openingHours)) return [];
      return [ev('OpeningHoursSet', { openingHours: command.openingHours, previousOpeningHours: clinic.openingHours })];
    }
    case 'SetSlotConfiguration': {
      const clinic = registered(state);
      const { slotLengthMinutes, slotCapacity } = command;
      if (clinic.slotLengthMinutes === slotLengthMinutes && clinic.slotCapacity === slotCapacity) return [];
      return [
        ev('SlotConfigurationSet', {
          slotLengthMinutes,
          slotCapacity,
          previousSlotLengthMinutes: clinic.slotLengthMinutes,
          previousSlotCapacity: clinic.slotCapacity,
        }),
      ];
    }
    case 'ChangeClinicSettings': {
      const { settings } = registered(state);
      const next = {
        bookingHorizonDays: command.bookingHorizonDays ?? settings.bookingHorizonDays,
        paymentDeadlineMinutes: command.paymentDeadlineMinutes ?? settings.paymentDeadlineMinutes,
        noShowGraceMinutes: command.noShowGraceMinutes ?? settings.noShowGraceMinutes,
        stageThresholdMinutes: { ...settings.stageThresholdMinutes, ...definedOnly(command.stageThresholdMinutes ?? {}) },
      };
      if (sameJson(next, settings)) return [];
      return [
        ev('ClinicSettingsChanged', {
          bookingHorizonDays: next.bookingHorizonDays,
          previousBookingHorizonDays: settings.bookingHorizonDays,
          paymentDeadlineMinutes: next.paymentDeadlineMinutes,
          previousPaymentDeadlineMinutes: settings.paymentDeadlineMinutes,
          ...(next.noShowGraceMinutes === settings.noShowGraceMinutes
            ? {}
            : { noShowGraceMinutes: next.noShowGraceMinutes, previousNoShowGraceMinutes: settings.noShowGraceMinutes }),
          ...(sameJson(next.stageThresholdMinutes, settings.stageThresholdMinutes)
            ? {}
            : { stageThresholdMinutes: next.stageThresholdMinutes, previousStageThresholdMinutes: settings.stageThresholdMinutes }),
        }),
      ];
    }
    case 'CloseDay': {
      const clinic = registered(state);
      assertNotPast(command.day, context.now);
      const previousReason = clinic.closedDays[command.day];
      if (previousReason === command.reason) return [];
      return [ev('DayClosed', { day: command.day, reason: command.reason, ...(previousReason === undefined ? {} : { previousReason }) })];
    }
    case 'ReopenDay': {
      const clinic = registered(state);
      const previousReason = clinic.closedDays[command.day];
      if (previousReason === undefined) return [];
      assertNotPast(command.day, context.now);
      return [ev('DayReopened', { day: command.day, previousReason })];
    }
    case 'SetCancellationPolicy': {
      const clinic = registered(state);
      if (sameJson(clinic.policy, command.policy)) return [];
      return [ev('CancellationPolicySet', { policy: command.policy, previousPolicy: clinic.policy })];
    }
  }
}
