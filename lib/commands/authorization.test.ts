/**
 * Every command handler runs the policy step before anything is appended (issue 8, "authorisation
 * where the data is"): for each command, actors who may not run it get ForbiddenError and the event
 * table is unchanged; the rightful actor's command goes through (so the refusals are not blanket).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monday, OPENING_HOURS, POLICY } from '../domain/clinic/fixtures';
import { createEventStore } from '../eventstore';
import { createTestDatabase, storedEvents } from '../testing/db';
import * as commands from '.';
import type { CommandDeps } from './deps';
import { ForbiddenError } from './errors';
import { commandMetadata, type CommandMetadata } from './metadata';
import { managerMeta, manualClock, meta, patientMeta, registerTestClinic, staffMeta } from './testing';

const t = await createTestDatabase();
const store = await createEventStore({ databaseUrl: t.url, hmacKey: 'test-key-at-least-16-bytes', maxConnections: 8 });
afterAll(() => store.close());
const clock = manualClock('2025-03-02T00:00:00Z');
const deps: CommandDeps = { store, clock };
const uid = () => randomBytes(5).toString('hex');

const clinicId = `c-${uid()}`;
const otherClinicId = `c-${uid()}`;
const patientId = `p-${uid()}`;
const reservationId = `r-${uid()}`;
const visitId = `v-${uid()}`;

const auditor = () => meta({ actor: { id: 'aud-1', role: 'auditor' } });
const otherPatient = () => patientMeta(`p-${uid()}`, clinicId);
const otherStaff = () => staffMeta(otherClinicId, 'staff-9');
const ownPatient = () => patientMeta(patientId, clinicId);
const ownStaff = () => staffMeta(clinicId);
const ownManager = () => managerMeta(clinicId);
const otherManager = () => managerMeta(otherClinicId, 'manager-9');
/** Staff of the clinic without a clinic in the session (userCommandMetadata always sets one). */
const staffWithoutClinic = () => commandMetadata({ actor: { id: 'staff-1', role: 'staff' } });

beforeAll(async () => {
  await registerTestClinic(deps, clinicId);
  await registerTestClinic(deps, otherClinicId);
  // The patient's own instant consultation (confirmed at once), checked in: a visit at the clinic.
  await commands.bookReservation(
    deps,
    { reservationId, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('11:00') },
    ownPatient(),
  );
  await commands.checkInReservation(deps, { reservationId, visitId, staffId: 'staff-1' }, ownStaff());
});

type Case = {
  name: string;
  run: (m: CommandMetadata) => Promise<unknown>;
  refused: Array<[string, () => CommandMetadata]>;
};

const everyoneElse: Array<[string, () => CommandMetadata]> = [
  ['another patient', otherPatient],
  ['staff of another clinic', otherStaff],
  ['staff without a clinic', staffWithoutClinic],
  ['an auditor', auditor],
];
const notStaffHere: Array<[string, () => CommandMetadata]> = [...everyoneElse, ['the patient themselves', ownPatient]];
/** Running the clinic (catalogue, hours, closures, settings) is its managers': plain staff are refused too. */
const notManagerHere: Array<[string, () => CommandMetadata]> = [...notStaffHere, ['staff of the clinic (not a manager)', ownStaff], ['a manager of another clinic', otherManager]];
const notThePatient: Array<[string, () => CommandMetadata]> = [
  ['another patient', otherPatient],
  ['staff of the clinic', ownStaff],
  ['an auditor', auditor],
];

const clinicCases: Case[] = [
  { name: 'registerClinic', run: (m) => commands.registerClinic(deps, { clinicId: `c-${uid()}`, name: 'X', openingHours: OPENING_HOURS, slotLengthMinutes: 30, slotCapacity: 1, policy: POLICY }, m), refused: [...notStaffHere, ['staff of the clinic', ownStaff]] },
  { name: 'listTreatment', run: (m) => commands.listTreatment(deps, { clinicId, treatmentId: `tx-${uid()}`, name: 'X', category: 'skin', priceKrw: 10_000, durationMinutes: 30, depositKrw: 0, bookingMode: 'instant', bookingKinds: ['pay-and-book'] }, m), refused: notManagerHere },
  { name: 'changeTreatmentPrice', run: (m) => commands.changeTreatmentPrice(deps, { clinicId, treatmentId: 'tx-botox', priceKrw: 120_000 }, m), refused: notManagerHere },
  { name: 'unlistTreatment', run: (m) => commands.unlistTreatment(deps, { clinicId, treatmentId: 'tx-ulthera' }, m), refused: notManagerHere },
  { name: 'setOpeningHours', run: (m) => commands.setOpeningHours(deps, { clinicId, openingHours: OPENING_HOURS.slice(0, 4) }, m), refused: notManagerHere },
  { name: 'setSlotConfiguration', run: (m) => commands.setSlotConfiguration(deps, { clinicId, slotLengthMinutes: 30, slotCapacity: 3 }, m), refused: notManagerHere },
  { name: 'changeClinicSettings', run: (m) => commands.changeClinicSettings(deps, { clinicId, bookingHorizonDays: 60 }, m), refused: notManagerHere },
  { name: 'setCancellationPolicy', run: (m) => commands.setCancellationPolicy(deps, { clinicId, policy: { ...POLICY, freeCancellationHours: 48 } }, m), refused: notManagerHere },
  { name: 'changeTreatmentDetails', run: (m) => commands.changeTreatmentDetails(deps, { clinicId, treatmentId: 'tx-botox', durationMinutes: 45 }, m), refused: notManagerHere },
  { name: 'closeDay', run: (m) => commands.closeDay(deps, { clinicId, day: '2025-03-07', reason: 'holiday' }, m), refused: notManagerHere },
  { name: 'reopenDay', run: (m) => commands.reopenDay(deps, { clinicId, day: '2025-03-07' }, m), refused: notManagerHere },
];

const day = { clinicId, day: '2025-03-04' };
const scheduleCases: Case[] = [
  { name: 'placeHold', run: async (m) => commands.placeHold(deps, await commands.loadClinic(deps, clinicId), { ...day, holdId: `h-${uid()}`, reservationId: `r-${uid()}`, startsAt: '2025-03-04T01:00:00.000Z', durationMinutes: 30 }, m), refused: notStaffHere },
  { name: 'confirmHold', run: (m) => commands.confirmHold(deps, { ...day, holdId: 'h-none', reservationId: 'r-none' }, m), refused: notStaffHere },
  { name: 'releaseHold', run: (m) => commands.releaseHold(deps, { ...day, holdId: 'h-none', reason: 'staff' }, m), refused: notStaffHere },
  { name: 'expireHolds', run: (m) => commands.expireHolds(deps, day, m), refused: notStaffHere },
];

const reservationCases: Case[] = [
  {
    name: 'bookReservation (as another patient / in another clinic)',
    run: (m) => commands.bookReservation(deps, { reservationId: `r-${uid()}`, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('15:00') }, m),
    refused: everyoneElse,
  },
  { name: 'rescheduleReservation (by patient)', run: (m) => commands.rescheduleReservation(deps, { reservationId, startsAt: monday('16:00'), by: 'patient' }, m), refused: notThePatient },
  { name: 'rescheduleReservation (by staff)', run: (m) => commands.rescheduleReservation(deps, { reservationId, startsAt: monday('16:00'), by: 'staff' }, m), refused: notStaffHere },
  { name: 'cancelReservation (by patient)', run: (m) => commands.cancelReservation(deps, { reservationId, by: 'patient', reason: 'x' }, m), refused: notThePatient },
  { name: 'cancelReservation (by staff)', run: (m) => commands.cancelReservation(deps, { reservationId, by: 'staff', reason: 'x' }, m), refused: notStaffHere },
  { name: 'confirmReservation', run: (m) => commands.confirmReservation(deps, { reservationId, staffId: 'staff-1' }, m), refused: notStaffHere },
  { name: 'rejectReservation', run: (m) => commands.rejectReservation(deps, { reservationId, staffId: 'staff-1', reason: 'x' }, m), refused: notStaffHere },
  { name: 'recordNoShow', run: (m) => commands.recordNoShow(deps, { reservationId, staffId: 'staff-1' }, m), refused: notStaffHere },
  { name: 'recordDepositPaid (process managers only)', run: (m) => commands.recordDepositPaid(deps, { reservationId, paymentId: 'pay-x', amountKrw: 1000 }, m), refused: [...notStaffHere, ['staff of the clinic', ownStaff]] },
  { name: 'checkInReservation', run: (m) => commands.checkInReservation(deps, { reservationId, visitId: `v-${uid()}` }, m), refused: notStaffHere },
  { name: 'completeReservation', run: (m) => commands.completeReservation(deps, { reservationId }, m), refused: notStaffHere },
];

const visitCases: Case[] = [
  { name: 'recordArrival (walk-in)', run: (m) => commands.recordArrival(deps, { visitId: `v-${uid()}`, clinicId, patientId }, m), refused: notStaffHere },
  { name: 'startConsultation', run: (m) => commands.startConsultation(deps, { visitId }, m), refused: notStaffHere },
  { name: 'startProcedure', run: (m) => commands.startProcedure(deps, { visitId }, m), refused: notStaffHere },
  { name: 'startRecovery', run: (m) => commands.startRecovery(deps, { visitId }, m), refused: notStaffHere },
  { name: 'discharge', run: (m) => commands.discharge(deps, { visitId }, m), refused: notStaffHere },
  { name: 'addTreatment', run: (m) => commands.addTreatment(deps, { visitId, lineId: `l-${uid()}`, treatmentId: 'tx-botox' }, m), refused: notStaffHere },
  { name: 'revertStage', run: (m) => commands.revertStage(deps, { visitId, staffId: 'staff-1', reason: 'x' }, m), refused: notStaffHere },
];

const patientCases: Case[] = [
  { name: 'registerPatient', run: (m) => commands.registerPatient(deps, { patientId, name: '김지은', phone: '010-1234-5678', birthDate: '1991-04-12', email: 'a@example.com' }, m), refused: notThePatient },
  { name: 'changeContact', run: (m) => commands.changeContact(deps, { patientId, phone: '010-9999-0000' }, m), refused: notThePatient },
  { name: 'giveConsent', run: (m) => commands.giveConsent(deps, { patientId, purpose: 'marketing', version: 'v1' }, m), refused: notThePatient },
  { name: 'withdrawConsent', run: (m) => commands.withdrawConsent(deps, { patientId, purpose: 'marketing' }, m), refused: notThePatient },
  { name: 'erasePatientData', run: (m) => commands.erasePatientData(deps, { patientId, requestedBy: 'patient', reason: 'x' }, m), refused: notThePatient },
  { name: 'erasePatientData (the patient claiming an admin asked)', run: (m) => commands.erasePatientData(deps, { patientId, requestedBy: 'admin', reason: 'x' }, m), refused: [['the patient themselves', ownPatient]] },
];

describe.each([
  ['clinic', clinicCases],
  ['schedule', scheduleCases],
  ['reservation', reservationCases],
  ['visit', visitCases],
  ['patient', patientCases],
])('%s commands: a foreign actor gets ForbiddenError and nothing is appended', (_kind, cases) => {
  for (const c of cases) {
    it.each(c.refused)(`${c.name}: %s`, async (_who, actor) => {
      const before = await storedEvents(t.sql);
      await expect(c.run(actor())).rejects.toBeInstanceOf(ForbiddenError);
      expect(await storedEvents(t.sql)).toEqual(before);
    });
  }
});

describe('the rightful actor passes the policy step', () => {
  it("the clinic's manager changes its catalogue; the patient reschedules and cancels their own booking; staff record their own id", async () => {
    await expect(commands.setSlotConfiguration(deps, { clinicId, slotLengthMinutes: 30, slotCapacity: 2 }, ownManager())).resolves.toBeDefined();
    await expect(commands.changeClinicSettings(deps, { clinicId, noShowGraceMinutes: 15 }, ownManager())).resolves.toBeDefined();
    const own = `r-${uid()}`;
    await commands.bookReservation(deps, { reservationId: own, clinicId, patientId, treatmentId: 'tx-consult', kind: 'consult-first', startsAt: monday('15:00') }, ownPatient());
    await expect(commands.rescheduleReservation(deps, { reservationId: own, startsAt: monday('16:00'), by: 'patient' }, ownPatient())).resolves.toBeDefined();
    const cancelled = await commands.cancelReservation(deps, { reservationId: own, by: 'staff', reason: 'clinic closed' }, ownStaff());
    expect(cancelled.events).toMatchObject([{ type: 'ReservationCancelled', data: { by: 'staff', staffId: 'staff-1' } }]);
  });

  it('a patient cannot claim to act as staff (which would waive the late fee), nor staff under another staff id', async () => {
    await expect(commands.cancelReservation(deps, { reservationId, by: 'staff', reason: 'x' }, ownPatient())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(commands.confirmReservation(deps, { reservationId, staffId: 'staff-2' }, ownStaff())).rejects.toBeInstanceOf(ForbiddenError);
  });
});
