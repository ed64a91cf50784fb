import type { DayKey } from './time';

/** The one home for stream names. Ids never contain a date suffix, so schedule names parse from the end. */
export const streams = {
  clinic: (clinicId: string) => `clinic-${clinicId}`,
  schedule: (clinicId: string, day: DayKey) => `schedule-${clinicId}-${day}`,
  reservation: (reservationId: string) => `reservation-${reservationId}`,
  payment: (paymentId: string) => `payment-${paymentId}`,
  visit: (visitId: string) => `visit-${visitId}`,
  patient: (patientId: string) => `patient-${patientId}`,
} as const;

export type StreamKind = keyof typeof streams;

export const STREAM_KINDS = Object.keys(streams) as StreamKind[];

export type ParsedStream =
  | { kind: 'schedule'; clinicId: string; day: DayKey }
  | { kind: Exclude<StreamKind, 'schedule'>; id: string };

/** Parse a stream name back into its kind and ids; null if it is not one of ours. */
export function parseStream(name: string): ParsedStream | null {
  const schedule = /^schedule-(.+)-(\d{4}-\d{2}-\d{2})$/.exec(name);
  if (schedule) return { kind: 'schedule', clinicId: schedule[1]!, day: schedule[2]! };
  const m = /^(clinic|reservation|payment|visit|patient)-(.+)$/.exec(name);
  if (!m) return null;
  return { kind: m[1] as Exclude<StreamKind, 'schedule'>, id: m[2]! };
}

/** The stream prefix of a kind, for readAll filters ("reservation-"). */
export function streamPrefix(kind: StreamKind): string {
  return `${kind}-`;
}
