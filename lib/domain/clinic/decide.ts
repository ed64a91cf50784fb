import { AlreadyExistsError, NotFoundError } from '../shared/errors';
import { iso } from '../shared/time';
import type { ClinicCommand } from './commands';
import { ConsultDurationMissingError, DepositExceedsPriceError, TreatmentNotFoundError, TreatmentUnlistedError } from './errors';
import { clinicEvent as ev, type ClinicEvent } from './events';
import { assertValidOpeningHours } from './rules';
import type { ClinicState, RegisteredClinic, Treatment } from './state';

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

/**
 * Clinic catalogue decisions. Re-sending a command that changes nothing yields no events
 * (idempotent retries); registering twice with different content is refused.
 */
export function decideClinic(command: ClinicCommand, state: ClinicState, context: ClinicContext): ClinicEvent[] {
  switch (command.type) {
    case 'RegisterClinic': {
      const { type: _t, ...data } = command;
      if (state.status === 'registered') {
        const { status: _s, treatments: _tr, settings: _se, ...current } = state;
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
    case 'UnlistTreatment': {
      const t = requireTreatment(registered(state), command.treatmentId);
      return t.listed ? [ev('TreatmentUnlisted', { treatmentId: t.treatmentId })] : [];
    }
    case 'SetOpeningHours': {
      const clinic = registered(state);
      assertValidOpeningHours(command.openingHours);
      if (sameJson(clinic.openingHours, command.openingHours)) return [];
      return [ev('OpeningHoursSet', { openingHours: command.openingHours })];
    }
    case 'SetSlotConfiguration': {
      const clinic = registered(state);
      const { slotLengthMinutes, slotCapacity } = command;
      if (clinic.slotLengthMinutes === slotLengthMinutes && clinic.slotCapacity === slotCapacity) return [];
      return [ev('SlotConfigurationSet', { slotLengthMinutes, slotCapacity })];
    }
    case 'ChangeClinicSettings': {
      const { settings } = registered(state);
      const next = {
        bookingHorizonDays: command.bookingHorizonDays ?? settings.bookingHorizonDays,
        paymentDeadlineMinutes: command.paymentDeadlineMinutes ?? settings.paymentDeadlineMinutes,
        noShowGraceMinutes: command.noShowGraceMinutes ?? settings.noShowGraceMinutes,
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
        }),
      ];
    }
    case 'SetCancellationPolicy': {
      const clinic = registered(state);
      if (sameJson(clinic.policy, command.policy)) return [];
      return [ev('CancellationPolicySet', { policy: command.policy })];
    }
  }
}
