import { sql } from 'drizzle-orm';
import type { clinic } from '../../domain';
import { clinics, treatments } from '../../db/schema';
import { RowCache, flushAll } from '../rows';
import { rmClinicClosures, rmClinicPolicies, rmrevCatalogue } from '../schema';
import type { Projection, ProjectionTx, ProjectedEvent } from '../types';

/**
 * The public pages' cache (lib/queries/public-cache.ts) listens here: the catalogue and schedule
 * projections NOTIFY, in their batch's transaction (so only at commit, and never for a rolled-back
 * batch), which clinics' rows they changed: `catalogue:<id>,<id>…`, `schedule:…`, or `<kind>:*`.
 */
export const PUBLIC_CHANGES_CHANNEL = 'yeyak_public';

export type PublicChange = { kind: 'catalogue' | 'schedule'; ids: string[] | '*' };

/** PostgreSQL payloads are limited to 8000 bytes: beyond this, name the whole kind. */
const MAX_PAYLOAD = 7000;

export function publicChangePayload(kind: PublicChange['kind'], ids: Iterable<string>): string {
  const list = [...new Set(ids)].join(',');
  return list.length > MAX_PAYLOAD ? `${kind}:*` : `${kind}:${list}`;
}

export function parsePublicChange(payload: string): PublicChange | null {
  const m = /^(catalogue|schedule):(.*)$/s.exec(payload);
  if (!m) return null;
  return { kind: m[1] as PublicChange['kind'], ids: m[2] === '*' ? '*' : m[2]!.split(',').filter(Boolean) };
}

/** Sent on its own (not in the batch's collected write statement: a SELECT in a CTE would not run). */
export async function notifyPublicChange(tx: ProjectionTx, kind: PublicChange['kind'], ids: Iterable<string>): Promise<void> {
  const set = [...new Set(ids)];
  if (set.length) await tx.execute(sql`select pg_notify(${PUBLIC_CHANGES_CHANNEL}, ${publicChangePayload(kind, set)})`);
}

type ClinicRow = typeof clinics.$inferSelect;
type TreatmentRow = typeof treatments.$inferSelect;
type PolicyRow = typeof rmClinicPolicies.$inferSelect;
type ClosureRow = typeof rmClinicClosures.$inferSelect;

export const closureId = (clinicId: string, day: string) => `${clinicId}|${day}`;

/** Columns of clinics this projection writes (created_at is kept). */
const CLINIC_COLUMNS = ['nameKo', 'nameEn', 'district', 'address', 'phone', 'openingHours', 'slotMinutes', 'slotCapacity', 'settings'] as const;
const TREATMENT_COLUMNS = ['clinicId', 'category', 'nameKo', 'nameEn', 'priceKrw', 'depositKrw', 'durationMinutes', 'bookingMode', 'bookingKinds', 'consultDurationMinutes', 'taxCategory'] as const;

/**
 * The clinic catalogue: writes the foundation tables `clinics` and `treatments` that the public
 * pages show (the profile's English name, district, address and phone; the Korean name stands in
 * for a missing English one, '' for missing profile fields; the opening intervals as the domain has
 * them, lunch breaks included), and the cancellation policy in rm_clinic_policies. An unlisted
 * treatment is removed from `treatments`.
 * v2: opening hours are the intervals (v1 merged each day into first opening–last closing).
 * v3: treatments' booking kinds and consult length (TreatmentListed v3), the clinic's settings
 * (ClinicSettingsChanged; null until changed, read with clinicSettingsOf).
 * v4: treatments' tax category (TreatmentListed v4; older events upcast to taxable).
 * v5: treatment details changes (TreatmentDetailsChanged), closed days (rm_clinic_closures), and every
 * setting in `clinics.settings` (v4 kept the horizon and payment deadline only): no-show grace, stage thresholds.
 */
export const catalogueProjection: Projection = {
  name: 'catalogue',
  version: 5,
  streams: ['clinic-'],
  eventTypes: [
    'ClinicRegistered',
    'TreatmentListed',
    'TreatmentPriceChanged',
    'TreatmentDetailsChanged',
    'TreatmentUnlisted',
    'OpeningHoursSet',
    'SlotConfigurationSet',
    'CancellationPolicySet',
    'ClinicSettingsChanged',
    'DayClosed',
    'DayReopened',
  ],
  revisions: rmrevCatalogue,
  tables: [
    { table: clinics, mode: 'merge', mergeKey: 'id', mergeColumns: ['id', ...CLINIC_COLUMNS] },
    {
      table: treatments,
      mode: 'merge',
      mergeKey: 'id',
      mergeColumns: ['id', ...TREATMENT_COLUMNS],
      mergeDeleteMissing: { scopeColumn: 'clinic_id', scopeTable: 'clinics', scopeKey: 'id' },
    },
    { table: rmClinicPolicies },
    { table: rmClinicClosures },
  ],
  async handle(tx: ProjectionTx, events: readonly ProjectedEvent[]) {
    const clinicRows = new RowCache<ClinicRow>(clinics, 'id', CLINIC_COLUMNS);
    const treatmentRows = new RowCache<TreatmentRow>(treatments, 'id', TREATMENT_COLUMNS);
    const policies = new RowCache<PolicyRow>(rmClinicPolicies, 'clinicId');
    const closures = new RowCache<ClosureRow>(rmClinicClosures, 'id');
    const clinicIds = events.map((e) => e.recorded.streamId.slice('clinic-'.length));
    await Promise.all([
      clinicRows.load(tx, clinicIds),
      policies.load(tx, clinicIds),
      closures.load(
        tx,
        events.flatMap((e) => (e.domain!.type === 'DayClosed' || e.domain!.type === 'DayReopened' ? [closureId(e.recorded.streamId.slice('clinic-'.length), (e.domain!.data as { day: string }).day)] : [])),
      ),
      treatmentRows.load(
        tx,
        events.map((e) => (e.domain!.data as { treatmentId?: string }).treatmentId).filter((id): id is string => typeof id === 'string'),
      ),
    ]);
    for (const { recorded, domain } of events) {
      const e = domain as clinic.ClinicEvent;
      const clinicId = recorded.streamId.slice('clinic-'.length);
      const at = new Date(recorded.metadata.occurredAt);
      if (e.type === 'ClinicRegistered') {
        const existing = clinicRows.get(clinicId);
        const profile = e.data.profile ?? {};
        clinicRows.put({
          id: clinicId,
          nameKo: e.data.name,
          nameEn: profile.nameEn ?? e.data.name,
          district: profile.district ?? '',
          address: profile.address ?? '',
          phone: profile.phone ?? '',
          openingHours: e.data.openingHours,
          slotMinutes: e.data.slotLengthMinutes,
          slotCapacity: e.data.slotCapacity,
          settings: null, // the defaults, as the aggregate starts
          createdAt: existing?.createdAt ?? at,
        });
        policies.put({ clinicId, policy: e.data.policy, updatedAt: at });
        continue;
      }
      switch (e.type) {
        case 'TreatmentListed': {
          const d = e.data;
          treatmentRows.put({
            id: d.treatmentId,
            clinicId,
            category: d.category,
            nameKo: d.name,
            nameEn: d.nameEn ?? d.name,
            priceKrw: d.priceKrw,
            depositKrw: d.depositKrw,
            durationMinutes: d.durationMinutes,
            bookingMode: d.bookingMode,
            bookingKinds: [...d.bookingKinds],
            consultDurationMinutes: d.consultDurationMinutes ?? null,
            taxCategory: d.taxCategory,
          });
          break;
        }
        case 'TreatmentPriceChanged':
          treatmentRows.update(e.data.treatmentId, { priceKrw: e.data.priceKrw, depositKrw: e.data.depositKrw });
          break;
        case 'TreatmentDetailsChanged': {
          const row = treatmentRows.get(e.data.treatmentId);
          if (!row) break;
          const d = e.data.details;
          const nameKo = d.name ?? row.nameKo;
          treatmentRows.put({
            ...row,
            nameKo,
            // No English name: the Korean one stands in (as at listing); kept when only the Korean name changes and an English one exists.
            nameEn: d.nameEn === null ? nameKo : (d.nameEn ?? (row.nameEn === row.nameKo ? nameKo : row.nameEn)),
            ...(d.category === undefined ? {} : { category: d.category }),
            ...(d.durationMinutes === undefined ? {} : { durationMinutes: d.durationMinutes }),
            ...(d.bookingMode === undefined ? {} : { bookingMode: d.bookingMode }),
            ...(d.bookingKinds === undefined ? {} : { bookingKinds: [...d.bookingKinds] }),
            ...(d.consultDurationMinutes === undefined ? {} : { consultDurationMinutes: d.consultDurationMinutes }),
            ...(d.taxCategory === undefined ? {} : { taxCategory: d.taxCategory }),
          });
          break;
        }
        case 'TreatmentUnlisted':
          treatmentRows.delete(e.data.treatmentId);
          break;
        case 'DayClosed':
          closures.put({ id: closureId(clinicId, e.data.day), clinicId, day: e.data.day, reason: e.data.reason, closedAt: at });
          break;
        case 'DayReopened':
          closures.delete(closureId(clinicId, e.data.day));
          break;
        case 'OpeningHoursSet':
          clinicRows.update(clinicId, { openingHours: e.data.openingHours });
          break;
        case 'SlotConfigurationSet':
          clinicRows.update(clinicId, { slotMinutes: e.data.slotLengthMinutes, slotCapacity: e.data.slotCapacity });
          break;
        case 'CancellationPolicySet':
          policies.update(clinicId, { policy: e.data.policy, updatedAt: at });
          break;
        case 'ClinicSettingsChanged': {
          // The grace and the thresholds are in the event only when they changed: the others stay as stored.
          const stored = clinicRows.get(clinicId)?.settings ?? {};
          clinicRows.update(clinicId, {
            settings: {
              ...stored,
              bookingHorizonDays: e.data.bookingHorizonDays,
              paymentDeadlineMinutes: e.data.paymentDeadlineMinutes,
              ...(e.data.noShowGraceMinutes === undefined ? {} : { noShowGraceMinutes: e.data.noShowGraceMinutes }),
              ...(e.data.stageThresholdMinutes === undefined ? {} : { stageThresholdMinutes: e.data.stageThresholdMinutes }),
            },
          });
          break;
        }
      }
    }
    // Clinics before treatments (treatments.clinic_id references clinics.id).
    // In this order: treatments reference clinics (foreign key).
    await clinicRows.flush(tx);
    await flushAll(tx, treatmentRows, policies, closures);
    await notifyPublicChange(tx, 'catalogue', clinicIds);
  },
};
