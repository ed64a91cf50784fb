/**
 * The audit-log projection's tables (re-exported by lib/projections/schema.ts, where drizzle-kit and
 * the rebuild find every read model). Every filter of the trail has an index ending in the trail's
 * order (occurred_at, position_commit, position_prepare), so a page is an index range scan that
 * stops after one page, however many events the log holds (keyset pagination; docs/PERFORMANCE.md).
 */
import { bigint, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { revisionTable } from '../../revision-table';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const rmrevAuditLog = revisionTable('rmrev_audit_log');

export const rmAuditSubjects = pgTable('rm_audit_subjects', {
  streamId: text('stream_id').primaryKey(),
  clinicId: text('clinic_id'),
  patientId: text('patient_id'),
});

/** One row per event, flattened and indexed for the audit trail's filters. */
export const rmAuditLog = pgTable(
  'rm_audit_log',
  {
    eventId: text('event_id').primaryKey(),
    positionCommit: bigint('position_commit', { mode: 'bigint' }).notNull(),
    positionPrepare: bigint('position_prepare', { mode: 'bigint' }).notNull(),
    occurredAt: tz('occurred_at').notNull(),
    recordedAt: tz('recorded_at').notNull(),
    actorId: text('actor_id').notNull(),
    actorRole: text('actor_role').notNull(),
    clinicId: text('clinic_id'),
    patientId: text('patient_id'),
    streamId: text('stream_id').notNull(),
    revision: integer('revision').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    eventType: text('event_type').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    summary: text('summary').notNull(),
    correlationId: text('correlation_id'),
    causationId: text('causation_id'),
    commandId: text('command_id'),
    ip: text('ip'),
  },
  (t) => {
    const order = [t.occurredAt, t.positionCommit, t.positionPrepare] as const;
    return [
      index('rm_audit_log_order_idx').on(...order),
      index('rm_audit_log_actor_idx').on(t.actorId, ...order),
      index('rm_audit_log_role_idx').on(t.actorRole, ...order),
      index('rm_audit_log_clinic_idx').on(t.clinicId, ...order),
      index('rm_audit_log_patient_idx').on(t.patientId, ...order),
      index('rm_audit_log_entity_idx').on(t.entityType, ...order),
      index('rm_audit_log_type_idx').on(t.eventType, ...order),
      index('rm_audit_log_correlation_idx').on(t.correlationId, ...order),
      // Free text (ILIKE '%…%') over the summary: trigrams (pg_trgm, migration 0017).
      index('rm_audit_log_summary_trgm_idx').using('gin', t.summary.op('gin_trgm_ops')),
    ];
  },
);
