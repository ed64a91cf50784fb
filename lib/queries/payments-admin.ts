/**
 * The admin payments page's reads: payments the reconciliation parked for a person (stuck), with
 * what the gateway said at the last check, and how many still wait for the timer. Admin only.
 */
import { inArray } from 'drizzle-orm';
import { requireUser } from '../auth/guard';
import { appDatabase, db } from '../db/client';
import { clinics } from '../db/schema';
import { pendingCount, stuckPayments, type GatewayView } from '../payments/reconciliation';
import { rmPayments } from '../projections/schema';

export interface StuckPaymentView {
  paymentId: string;
  orderId: string;
  clinicId: string | null;
  clinicName: { ko: string; en: string } | null;
  reservationId: string | null;
  amountKrw: number | null;
  requestedAt: Date;
  checks: number;
  lastCheckedAt: Date | null;
  stuckAt: Date;
  gateway: GatewayView | null;
  lastError: string | null;
}

export async function stuckPaymentsForAdmin(): Promise<{ stuck: StuckPaymentView[]; waiting: number }> {
  await requireUser({ roles: ['admin'], callbackUrl: '/admin/payments' });
  const { sql } = appDatabase();
  const [rows, waiting] = await Promise.all([stuckPayments(sql), pendingCount(sql)]);
  const ids = rows.map((r) => r.paymentId);
  const ledger = ids.length ? await db().select().from(rmPayments).where(inArray(rmPayments.id, ids)) : [];
  const byId = new Map(ledger.map((p) => [p.id, p]));
  const clinicIds = [...new Set(ledger.map((p) => p.clinicId))];
  const names = clinicIds.length
    ? await db().select({ id: clinics.id, ko: clinics.nameKo, en: clinics.nameEn }).from(clinics).where(inArray(clinics.id, clinicIds))
    : [];
  const nameOf = new Map(names.map((c) => [c.id, { ko: c.ko, en: c.en }]));
  return {
    waiting,
    stuck: rows.map((r) => {
      const p = byId.get(r.paymentId);
      return {
        paymentId: r.paymentId,
        orderId: r.orderId,
        clinicId: p?.clinicId ?? null,
        clinicName: p ? (nameOf.get(p.clinicId) ?? null) : null,
        reservationId: p?.reservationId ?? null,
        amountKrw: p?.amountKrw ?? null,
        requestedAt: r.requestedAt,
        checks: r.checks,
        lastCheckedAt: r.lastCheckedAt,
        stuckAt: r.stuckAt!,
        gateway: r.gateway,
        lastError: r.lastError,
      };
    }),
  };
}
