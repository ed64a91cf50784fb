/**
 * The integrity page's reads (/audit/integrity, issue 10 item 3): the seal key, the issued seals, a
 * seal as a file, and integrity runs. Auditors run every scope; a clinic manager (lib/auth/audit-scope)
 * only their own clinic, or one stream of it; seals are the whole log's, so auditors only. Every run
 * is recorded as a security event 'integrity_check' with its scope and result (the trail shows it).
 */
import { asc, inArray } from 'drizzle-orm';
import { forbidden } from 'next/navigation';
import { z } from 'zod';
import { assertInScope, requireAuditScope, type AuditScope } from '../auth/audit-scope';
import { recordSecurityEvent } from '../auth/security-log';
import { appDatabase, db } from '../db/client';
import { clinics } from '../db/schema';
import { accessChainKeysFromEnv } from '../integrity/access-chain';
import { reportSummary, runIntegrityCheck, type CheckProgress, type CheckReport, type CheckScope } from '../integrity/check';
import { sealPublicKeyPem } from '../integrity/seal';
import { listSeals, publicKeyInfo, sealFileOf, sealKeysFromEnv, type SealKeys, type StoredSeal } from '../integrity/sealing';
import { rmAuditSubjects } from '../projections/schema';
import { appEventStore } from '../runtime/event-store';
import type { RequestOrigin } from '../runtime/request-origin';

const CALLBACK = '/audit/integrity';

function sealKeysOrNull(): SealKeys | null {
  return process.env.SEAL_SIGNING_KEY?.trim() ? sealKeysFromEnv() : null;
}

export interface IntegrityPageData {
  /** null: every clinic (an auditor); a manager's own clinic otherwise. */
  clinicScope: string | null;
  clinics: Array<{ id: string; nameKo: string; nameEn: string }>;
  /** The public half of the seal key (auditors only). */
  sealKey: { keyId: string; publicKeyPem: string } | null;
  seals: StoredSeal[];
}

export async function integrityPage(): Promise<IntegrityPageData> {
  const scope = await requireAuditScope(CALLBACK);
  const rows = await db()
    .select({ id: clinics.id, nameKo: clinics.nameKo, nameEn: clinics.nameEn })
    .from(clinics)
    .where(scope.clinicId ? inArray(clinics.id, [scope.clinicId]) : undefined)
    .orderBy(asc(clinics.id));
  const keys = scope.clinicId === null ? sealKeysOrNull() : null;
  return {
    clinicScope: scope.clinicId,
    clinics: rows,
    sealKey: keys ? { keyId: publicKeyInfo(keys).keyId, publicKeyPem: sealPublicKeyPem(keys.signing) } : null,
    seals: scope.clinicId === null ? await listSeals(appDatabase().sql) : [],
  };
}

/** What the page's form sends (JSON): the scope, and for everything optionally a seal file. */
export const integrityRunSchema = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('stream'), streamId: z.string().trim().min(1).max(200) }),
  z.object({ scope: z.literal('clinic'), clinicId: z.string().trim().min(1).max(100) }),
  z.object({ scope: z.literal('all'), seal: z.unknown().optional() }),
]);
export type IntegrityRunInput = z.infer<typeof integrityRunSchema>;

function scopeOf(input: IntegrityRunInput): CheckScope {
  if (input.scope === 'stream') return { kind: 'stream', streamId: input.streamId };
  if (input.scope === 'clinic') return { kind: 'clinic', clinicId: input.clinicId };
  return { kind: 'all' };
}

/** 403 unless the scope is within the caller's: a manager checks their clinic, or a stream of it. */
async function authorizeScope(scope: AuditScope, check: CheckScope): Promise<void> {
  if (scope.clinicId === null) return;
  if (check.kind === 'all') forbidden();
  if (check.kind === 'clinic') return assertInScope(scope, check.clinicId);
  const rows = await db().select({ clinicId: rmAuditSubjects.clinicId }).from(rmAuditSubjects).where(inArray(rmAuditSubjects.streamId, [check.streamId]));
  assertInScope(scope, rows.map((r) => r.clinicId));
}

/**
 * Runs one integrity check for the signed-in auditor (or manager, within their clinic) and records
 * it. `signal` stops it (the browser went away, or the route's time limit); a stopped run is recorded
 * as stopped.
 */
export async function integrityCheck(
  input: IntegrityRunInput,
  options: { origin: RequestOrigin; onProgress?: (p: CheckProgress) => void; signal?: AbortSignal },
): Promise<CheckReport> {
  const scope = await requireAuditScope(CALLBACK);
  const check = scopeOf(input);
  await authorizeScope(scope, check);
  const database = appDatabase();
  const record = (detail: Record<string, unknown>) => recordSecurityEvent(database.db, { type: 'integrity_check', userId: scope.user.id, origin: options.origin, detail });
  try {
    const report = await runIntegrityCheck(
      { store: await appEventStore(), sql: database.sql, accessKeys: accessChainKeysFromEnv(), sealKeys: sealKeysOrNull() },
      check,
      { sealFile: input.scope === 'all' ? input.seal : undefined, onProgress: options.onProgress, signal: options.signal },
    );
    await record(reportSummary(report));
    return report;
  } catch (error) {
    await record({ scope: check, ok: false, stopped: options.signal?.aborted === true, error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

/** A stored seal as the file the auditor keeps (auditors only); null when there is no such seal. */
export async function sealDownload(id: number) {
  const scope = await requireAuditScope(CALLBACK);
  if (scope.clinicId !== null) forbidden();
  const file = await sealFileOf(appDatabase().sql, id);
  if (!file) return null;
  const keys = sealKeysOrNull();
  const trusted = keys?.trusted.map((k) => ({ k, info: publicKeyInfo({ signing: k, trusted: [] }) })) ?? [];
  const match = trusted.find((t) => t.info.keyId === file.seal.keyId);
  return { ...file, publicKey: match?.info.publicKey ?? '' };
}
