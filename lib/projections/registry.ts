/**
 * Every projection the worker runs. Adding one here (with its tables in ./schema.ts and a
 * migration) is enough: the worker builds it from the whole log on its next start.
 */
import { auditLogProjection } from './read-models/audit-log';
import { catalogueProjection } from './read-models/catalogue';
import { dailyStatsProjection } from './read-models/daily-stats';
import { patientsProjection } from './read-models/patients';
import { paymentLedgerProjection } from './read-models/payments';
import { reservationsProjection } from './read-models/reservations';
import { scheduleProjection } from './read-models/schedule';
import { visitBoardProjection } from './read-models/visits';
import type { Projection } from './types';

export const allProjections: readonly Projection[] = [
  catalogueProjection,
  reservationsProjection,
  scheduleProjection,
  visitBoardProjection,
  paymentLedgerProjection,
  patientsProjection,
  dailyStatsProjection,
  auditLogProjection,
];

export function projectionByName(name: string): Projection | undefined {
  return allProjections.find((p) => p.name === name);
}
