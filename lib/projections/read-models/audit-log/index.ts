import { parseStream } from '../../../domain/shared/streams';
import { RowCache, summarize, flushAll } from '../../rows';
import { rmAuditLog, rmAuditSubjects, rmrevAuditLog } from './table';
import type { Projection, ProjectionTx, ProjectedEvent } from '../../types';

type Row = typeof rmAuditLog.$inferSelect;
type SubjectRow = typeof rmAuditSubjects.$inferSelect;

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * The flattened audit log: one row per event (time, actor, role, clinic, patient, stream, entity,
 * type, summary, correlation), from the stored envelope alone (so even an event the domain cannot
 * read any more is listed). The summary never contains personal data (the `personal` field is left out).
 */
export const auditLogProjection: Projection = {
  name: 'audit-log',
  version: 2,
  streams: [''],
  eventTypes: 'all',
  rawOnly: true,
  revisions: rmrevAuditLog,
  tables: [{ table: rmAuditLog }, { table: rmAuditSubjects }],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const subjects = new RowCache<SubjectRow>(rmAuditSubjects, 'streamId');
    const log = new RowCache<Row>(rmAuditLog, 'eventId', undefined, { appendOnly: true });
    await subjects.load(
      tx,
      events.map((e) => e.recorded.streamId),
    );
    for (const { recorded } of events) {
      const data = (recorded.data ?? {}) as Record<string, unknown>;
      const m = recorded.metadata;
      const parsed = parseStream(recorded.streamId);
      const entityType = parsed?.kind ?? recorded.streamId.split('-')[0] ?? 'unknown';
      const entityId = parsed ? (parsed.kind === 'schedule' ? `${parsed.clinicId}-${parsed.day}` : parsed.id) : recorded.streamId;
      let subject = subjects.get(recorded.streamId);
      const clinicFromData = str(data.clinicId) ?? (parsed?.kind === 'clinic' ? parsed.id : parsed?.kind === 'schedule' ? parsed.clinicId : null);
      const patientFromData = str(data.patientId) ?? (parsed?.kind === 'patient' ? parsed.id : null);
      if (!subject || (!subject.clinicId && clinicFromData) || (!subject.patientId && patientFromData)) {
        subject = { streamId: recorded.streamId, clinicId: subject?.clinicId ?? clinicFromData, patientId: subject?.patientId ?? patientFromData };
        subjects.put(subject);
      }
      log.put({
        eventId: recorded.eventId,
        positionCommit: recorded.position.commit,
        positionPrepare: recorded.position.prepare,
        occurredAt: new Date(m.occurredAt ?? recorded.recordedAt),
        recordedAt: recorded.recordedAt,
        actorId: m.actor?.id ?? 'unknown',
        actorRole: m.actor?.role ?? 'unknown',
        clinicId: str(m.clinicId) ?? subject.clinicId,
        patientId: subject.patientId,
        streamId: recorded.streamId,
        revision: recorded.revision,
        entityType,
        entityId,
        eventType: recorded.type,
        schemaVersion: recorded.schemaVersion,
        summary: summarize(recorded.type, data),
        correlationId: str(m.correlationId),
        causationId: str(m.causationId),
        commandId: str(m.commandId),
        // A patient's IP is their personal data: never kept here (sealed in the event since the
        // change that made v2; older events' plaintext is left out too). Staff's and the like stay.
        ip: m.actor?.role === 'patient' ? null : str(m.ip),
      });
    }
    await flushAll(tx, subjects, log);
  },
};
