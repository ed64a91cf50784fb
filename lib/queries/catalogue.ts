import { asc } from 'drizzle-orm';
import { z } from 'zod';
import { db } from '../db/client';
import { clinic as clinicDomain } from '../domain';
import { clinics, treatments } from '../db/schema';
import { rmClinicClosures, rmClinicPolicies } from '../projections/schema';
import { publicCache } from './public-cache';

// The catalogue (clinics, treatments, prices, hours) is public: no sign-in needed. It is read from
// the catalogue read model once and kept in the public cache until the worker changes it.

/** Until a clinic sets its own (the clinic setting `bookingHorizonDays`). */
export const DEFAULT_BOOKING_HORIZON_DAYS = clinicDomain.DEFAULT_CLINIC_SETTINGS.bookingHorizonDays;

/** A safety net only: a change is announced by the catalogue projection and drops the entry at once. */
const CATALOGUE_TTL_MS = 60_000;

type ClinicRow = typeof clinics.$inferSelect;
type TreatmentRow = typeof treatments.$inferSelect;

export type BookingKind = clinicDomain.BookingKind;
export type CatalogueTreatment = Omit<TreatmentRow, 'bookingKinds'> & {
  /** The kinds it allows, in display order (consult first, then pay and book). */
  bookingKinds: BookingKind[];
};

export interface CatalogueClinic extends ClinicRow {
  policy: clinicDomain.CancellationPolicy | null;
  /** Days ahead a patient may book (the clinic's setting, else the default). */
  bookingHorizonDays: number;
  /** Every setting with the defaults filled in (horizon, payment deadline, no-show grace, the board's stage thresholds). */
  clinicSettings: clinicDomain.ClinicSettings;
  /** Holidays and one-off closures: day → reason. No slots are offered on them. */
  closedDays: Record<string, string>;
  /** Listed treatments, by category then price. */
  treatments: CatalogueTreatment[];
}

const KIND_ORDER: readonly BookingKind[] = ['consult-first', 'pay-and-book'];

function treatmentOf(row: TreatmentRow): CatalogueTreatment {
  // Null only between the migration and the catalogue's v3 rebuild: read as the v2 → v3 upcaster does.
  const declared = row.bookingKinds ?? (row.depositKrw > 0 ? ['pay-and-book'] : ['consult-first']);
  return { ...row, bookingKinds: KIND_ORDER.filter((k) => declared.includes(k)) };
}

/**
 * The length a public availability grid uses for a treatment: its own duration when it may be booked
 * as itself (pay and book), else its consultation's. Every start offered then fits every kind allowed.
 */
export function bookingDurationOf(t: Pick<CatalogueTreatment, 'bookingKinds' | 'durationMinutes' | 'consultDurationMinutes'>): number {
  return t.bookingKinds.includes('pay-and-book') ? t.durationMinutes : (t.consultDurationMinutes ?? t.durationMinutes);
}

/** Every clinic with its treatments and policy, as one cached value (50 clinics are a few kB). */
export function catalogue(): Promise<CatalogueClinic[]> {
  return publicCache().get('catalogue', ['catalogue'], CATALOGUE_TTL_MS, async () => {
    const [clinicRows, treatmentRows, policyRows, closureRows] = await Promise.all([
      db().select().from(clinics).orderBy(asc(clinics.nameEn)),
      db().select().from(treatments).orderBy(asc(treatments.category), asc(treatments.priceKrw), asc(treatments.id)),
      db().select().from(rmClinicPolicies),
      // All of them, past ones too (a few dozen a clinic a year): what is "past" depends on the caller's now, not the cache's.
      db().select().from(rmClinicClosures).orderBy(asc(rmClinicClosures.day)),
    ]);
    const closedDays = new Map<string, Record<string, string>>();
    for (const c of closureRows) closedDays.set(c.clinicId, { ...(closedDays.get(c.clinicId) ?? {}), [c.day]: c.reason });
    const policies = new Map(policyRows.map((p) => [p.clinicId, p.policy as clinicDomain.CancellationPolicy]));
    const byClinic = new Map<string, CatalogueTreatment[]>();
    for (const t of treatmentRows) byClinic.set(t.clinicId, [...(byClinic.get(t.clinicId) ?? []), treatmentOf(t)]);
    return clinicRows.map((c) => ({
      ...c,
      policy: policies.get(c.id) ?? null,
      bookingHorizonDays: clinicDomain.clinicSettingsOf(c).bookingHorizonDays,
      clinicSettings: clinicDomain.clinicSettingsOf(c),
      closedDays: closedDays.get(c.id) ?? {},
      treatments: byClinic.get(c.id) ?? [],
    }));
  });
}

/**
 * A clinic with its treatments, opening intervals (lunch breaks included), cancellation policy,
 * closed days and settings (`clinicSettings.stageThresholdMinutes` for the visit board); null if unknown.
 */
export async function getClinicWithTreatments(clinicId: string): Promise<CatalogueClinic | null> {
  return (await catalogue()).find((c) => c.id === clinicId) ?? null;
}

const filterText = z
  .string()
  .trim()
  .max(100)
  .optional()
  .catch(undefined)
  .transform((v) => v || undefined);

/** The "find a clinic" filters, as they come from the URL (unknown or malformed values are dropped). */
export const clinicFiltersSchema = z.object({
  district: filterText,
  category: filterText,
  q: filterText,
});
export type ClinicFilters = Partial<z.infer<typeof clinicFiltersSchema>>;

/** Case, width and spacing do not matter: "강남글로우", "강남 글로우", "GANGNAM glow" all match. */
export function normalizeSearch(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
}

/** Whether a clinic matches the text search: its Korean or English name, or one of its treatments'. */
export function matchesSearch(c: Pick<CatalogueClinic, 'nameKo' | 'nameEn' | 'treatments'>, q: string): boolean {
  const needle = normalizeSearch(q);
  if (!needle) return true;
  const names = [c.nameKo, c.nameEn, ...c.treatments.flatMap((t) => [t.nameKo, t.nameEn])];
  return names.some((n) => normalizeSearch(n).includes(needle));
}

export interface ClinicListing {
  clinics: Array<CatalogueClinic & { cheapest: CatalogueTreatment | null }>;
  /** Every district and treatment category there is (for the filter menus), sorted. */
  districts: string[];
  categories: string[];
}

/**
 * Clinics matching the filters: in `district` (exact), offering a treatment of `category`, and whose
 * Korean or English name (or a treatment's) contains `q`. Each with its cheapest treatment (in the
 * category, when one is chosen).
 */
export async function listClinics(filters: ClinicFilters): Promise<ClinicListing> {
  const all = await catalogue();
  const districts = [...new Set(all.map((c) => c.district).filter(Boolean))].sort();
  const categories = [...new Set(all.flatMap((c) => c.treatments.map((t) => t.category)))].sort();
  const matching = all.filter(
    (c) =>
      (!filters.district || c.district === filters.district) &&
      (!filters.category || c.treatments.some((t) => t.category === filters.category)) &&
      (!filters.q || matchesSearch(c, filters.q)),
  );
  return {
    districts,
    categories,
    clinics: matching.map((c) => {
      const pool = filters.category ? c.treatments.filter((t) => t.category === filters.category) : c.treatments;
      const cheapest = pool.reduce<CatalogueTreatment | null>((best, t) => (!best || t.priceKrw < best.priceKrw ? t : best), null);
      return { ...c, cheapest };
    }),
  };
}
