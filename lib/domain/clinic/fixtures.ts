/** Test data shared by the domain specs (no test code here, so other specs can import it). */
import { clinicEvent as ev, type ClinicEvent } from './events';
import { evolveClinic, initialClinicState, type RegisteredClinic } from './state';
import type { CancellationPolicy, ListedTreatmentDetails, OpeningHours } from './values';

export const CLINIC_ID = 'clinic-gangnam-1';

/** Mon–Fri 10:00–13:00 and 14:00–19:00 (lunch 13–14), Sat 10:00–15:00, Sun closed. */
export const OPENING_HOURS: OpeningHours = [
  ...[1, 2, 3, 4, 5].flatMap((weekday) => [
    { weekday, opens: '10:00', closes: '13:00' },
    { weekday, opens: '14:00', closes: '19:00' },
  ]),
  { weekday: 6, opens: '10:00', closes: '15:00' },
];

export const POLICY: CancellationPolicy = {
  freeCancellationHours: 24,
  lateCancellationFeeKrw: 30_000,
  noShowForfeitsDeposit: true,
  minimumNoticeHours: 2,
};

export const BOTOX: ListedTreatmentDetails = {
  treatmentId: 'tx-botox',
  name: 'Botox (forehead)',
  category: 'injectable',
  priceKrw: 99_000,
  durationMinutes: 30,
  depositKrw: 50_000,
  bookingMode: 'instant',
  bookingKinds: ['consult-first', 'pay-and-book'],
  consultDurationMinutes: 30,
  taxCategory: 'taxable',
};

export const ULTHERA: ListedTreatmentDetails = {
  treatmentId: 'tx-ulthera',
  name: 'Ulthera lifting 300 shots',
  category: 'lifting',
  priceKrw: 1_200_000,
  durationMinutes: 90,
  depositKrw: 200_000,
  bookingMode: 'clinic-confirm',
  bookingKinds: ['consult-first', 'pay-and-book'],
  consultDurationMinutes: 30,
  taxCategory: 'taxable',
};

export const clinicRegistered = ev('ClinicRegistered', {
  clinicId: CLINIC_ID,
  name: 'Yeyak Skin Clinic Gangnam',
  openingHours: OPENING_HOURS,
  slotLengthMinutes: 30,
  slotCapacity: 2,
  policy: POLICY,
});

export const clinicHistory: ClinicEvent[] = [
  clinicRegistered,
  ev('TreatmentListed', BOTOX),
  ev('TreatmentListed', ULTHERA),
];

export function clinicState(events: ClinicEvent[] = clinicHistory): RegisteredClinic {
  const s = events.reduce(evolveClinic, initialClinicState());
  if (s.status !== 'registered') throw new Error('fixture clinic not registered');
  return s;
}

/** A Monday (2025-03-03) in Seoul at HH:mm, as an ISO instant with +09:00. */
export const monday = (hhmm: string) => `2025-03-03T${hhmm}:00+09:00`;
export const tuesday = (hhmm: string) => `2025-03-04T${hhmm}:00+09:00`;
export const sunday = (hhmm: string) => `2025-03-02T${hhmm}:00+09:00`;
