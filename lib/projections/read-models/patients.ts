import type { patient } from '../../domain';
import type { PersonalField } from '../../domain/patient/personal';
import { RowCache, summarize, flushAll } from '../rows';
import { rmPatientHistory, rmPatientSubjects, rmPatients, rmrevPatients } from '../schema';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';

type Row = typeof rmPatients.$inferSelect;
type SubjectRow = typeof rmPatientSubjects.$inferSelect;
type HistoryRow = typeof rmPatientHistory.$inferSelect;

const OPENING = new Set(['ReservationRequested', 'PatientArrived', 'PaymentRequested']);

function personalValue(field: PersonalField | undefined): { name?: string; phone?: string; email?: string; birthDate?: string } | 'erased' | null {
  if (!field) return null;
  if (field.kind === 'plain') return field.value;
  if (field.kind === 'erased') return 'erased';
  return null;
}

function amountOf(data: Record<string, unknown>): number | null {
  for (const k of ['amountKrw', 'priceKrw', 'totalKrw', 'refundDueKrw']) if (typeof data[k] === 'number') return data[k] as number;
  return null;
}

/**
 * Patients (profile, consents: the one read model with personal data, decrypted for display) and
 * each patient's history (reservations, visits, payments, consents; no personal data). On
 * PatientDataErased the personal data is dropped.
 */
export const patientsProjection: Projection = {
  name: 'patients',
  version: 1,
  streams: ['patient-', 'reservation-', 'visit-', 'payment-'],
  eventTypes: 'all',
  revisions: rmrevPatients,
  tables: [{ table: rmPatients }, { table: rmPatientSubjects }, { table: rmPatientHistory }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const patients = new RowCache<Row>(rmPatients, 'id');
    const subjects = new RowCache<SubjectRow>(rmPatientSubjects, 'streamId');
    const history = new RowCache<HistoryRow>(rmPatientHistory, 'eventId', undefined, { appendOnly: true });
    await Promise.all([
      patients.load(
        tx,
        events.filter((e) => e.recorded.streamId.startsWith('patient-')).map((e) => (e.domain!.data as { patientId: string }).patientId),
      ),
      subjects.load(
        tx,
        events.filter((e) => !e.recorded.streamId.startsWith('patient-')).map((e) => e.recorded.streamId),
      ),
    ]);
    for (const { recorded, domain } of events) {
      if (!domain) continue;
      const data = domain.data as Record<string, unknown>;
      const at = new Date(recorded.metadata.occurredAt);
      let patientId: string | undefined;
      let clinicId: string | null = null;
      if (recorded.streamId.startsWith('patient-')) {
        const e = domain as patient.PatientEvent;
        patientId = e.data.patientId;
        const row = patients.get(patientId);
        if (e.type === 'PatientRegistered') {
          const v = personalValue(e.data.personal);
          const p = v && v !== 'erased' ? v : {};
          patients.put({
            id: patientId,
            name: p.name ?? null,
            phone: p.phone ?? null,
            email: p.email ?? null,
            birthDate: p.birthDate ?? null,
            locale: e.data.locale,
            consents: {},
            erased: v === 'erased',
            erasedAt: null,
            registeredAt: at,
            version: recorded.revision,
          });
        } else if (!row) {
          throw new Error(`${e.type} for unknown patient ${patientId}`);
        } else if (e.type === 'ContactChanged') {
          const v = personalValue(e.data.personal);
          if (v === 'erased' || row.erased) patients.update(patientId, { name: null, phone: null, email: null, birthDate: null, erased: true, version: recorded.revision });
          else patients.update(patientId, { phone: v?.phone ?? row.phone, email: v?.email ?? row.email, version: recorded.revision });
        } else if (e.type === 'ConsentGiven') {
          patients.update(patientId, { consents: { ...row.consents, [e.data.purpose]: { version: e.data.version, at: e.data.at } }, version: recorded.revision });
        } else if (e.type === 'ConsentWithdrawn') {
          patients.update(patientId, { consents: { ...row.consents, [e.data.purpose]: null }, version: recorded.revision });
        } else if (e.type === 'PatientDataErased') {
          patients.update(patientId, { name: null, phone: null, email: null, birthDate: null, erased: true, erasedAt: new Date(e.data.at), version: recorded.revision });
        }
      } else {
        if (OPENING.has(domain.type)) {
          subjects.put({ streamId: recorded.streamId, patientId: data.patientId as string, clinicId: (data.clinicId as string) ?? null });
        }
        const subject = subjects.get(recorded.streamId);
        if (!subject) continue; // a stream whose opening event this projection never saw (not a patient's)
        patientId = subject.patientId;
        clinicId = subject.clinicId;
      }
      history.put({
        eventId: recorded.eventId,
        patientId,
        clinicId,
        occurredAt: at,
        streamId: recorded.streamId,
        eventType: domain.type,
        summary: summarize(domain.type, data),
        amountKrw: amountOf(data),
        position: recorded.position.prepare,
      });
    }
    await flushAll(tx, patients, subjects, history);
  },
};
