/**
 * Yeyak's domain: pure deciders, one per aggregate, no I/O. Time, ids and durations come in as
 * command fields or the `context` argument. See docs/events.md for the event catalogue.
 */
import { CLINIC_EVENT_VERSIONS, clinicDecider } from './clinic';
import { PATIENT_EVENT_VERSIONS, patientDecider } from './patient';
import { PAYMENT_EVENT_VERSIONS, paymentDecider } from './payment';
import { RESERVATION_EVENT_VERSIONS, reservationDecider } from './reservation';
import { SCHEDULE_EVENT_VERSIONS, scheduleDecider } from './schedule';
import type { RawEvent } from './shared/events';
import { EventSchemaError } from './shared/errors';
import type { StreamKind } from './shared/streams';
import { VISIT_EVENT_VERSIONS, visitDecider } from './visit';

export * as clinic from './clinic';
export * as schedule from './schedule';
export * as reservation from './reservation';
export * as payment from './payment';
export * as visit from './visit';
export * as patient from './patient';
export * from './shared';

/** The decider of each stream kind (`parseStream(name).kind` → decider). */
export const deciders = {
  clinic: clinicDecider,
  schedule: scheduleDecider,
  reservation: reservationDecider,
  payment: paymentDecider,
  visit: visitDecider,
  patient: patientDecider,
} as const satisfies Record<StreamKind, unknown>;

export type AnyDomainEvent = ReturnType<(typeof deciders)[StreamKind]['upcast']>;

/** Current schemaVersion of every event type, per stream kind. */
export const EVENT_VERSIONS = {
  clinic: CLINIC_EVENT_VERSIONS,
  schedule: SCHEDULE_EVENT_VERSIONS,
  reservation: RESERVATION_EVENT_VERSIONS,
  payment: PAYMENT_EVENT_VERSIONS,
  visit: VISIT_EVENT_VERSIONS,
  patient: PATIENT_EVENT_VERSIONS,
} as const satisfies Record<StreamKind, Record<string, number>>;

const kindOfType = new Map<string, StreamKind>();
for (const [kind, versions] of Object.entries(EVENT_VERSIONS) as Array<[StreamKind, Record<string, number>]>) {
  for (const type of Object.keys(versions)) kindOfType.set(type, kind);
}

/** The stream kind an event type belongs to (event type names are unique across aggregates). */
export function streamKindOfEventType(type: string): StreamKind | undefined {
  return kindOfType.get(type);
}

/** Upcast and validate any stored domain event by its type (for projections reading $all). */
export function upcastAny(raw: RawEvent): AnyDomainEvent {
  const kind = kindOfType.get(raw.type);
  if (!kind) throw new EventSchemaError(`unknown event type ${raw.type}`, raw.type, raw.schemaVersion);
  return deciders[kind].upcast(raw);
}
