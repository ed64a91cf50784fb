/**
 * One integrity run (the /audit/integrity page): the hash chains of one stream, of one clinic's
 * streams, or of everything (every stream, with PostgreSQL's stream heads, and the access log's
 * chain), and, for everything, optionally the whole log against a seal the auditor gives. Reports
 * progress as it goes and stops when its signal aborts. The caller records the run
 * (security event 'integrity_check').
 */
import type postgres from 'postgres';
import { StreamNotFound, type BrokenLink, type EventStore, type VerifyResult } from '../eventstore';
import { rmAuditSubjects } from '../projections/schema';
import { verifyAccessLog, type AccessVerifyResult } from './access-chain';
import { accessRowLeaf, compareEventsWithSeal, sealComparers, type SealKeys, type SealVerification } from './sealing';
import { drizzle } from 'drizzle-orm/postgres-js';
import { asc, eq } from 'drizzle-orm';

export type CheckScope = { kind: 'stream'; streamId: string } | { kind: 'clinic'; clinicId: string } | { kind: 'all' };

export interface CheckProgress {
  phase: 'events' | 'access-log' | 'seal';
  eventsChecked: number;
  streamsChecked: number;
  accessRowsChecked: number;
  sealEventsCompared: number;
}

export interface CheckReport {
  ok: boolean;
  scope: CheckScope;
  startedAt: string;
  finishedAt: string;
  events: VerifyResult;
  /** Only for 'all'. */
  accessLog: AccessVerifyResult | null;
  /** Only when a seal was given. */
  seal: SealVerification | null;
}

export interface CheckDeps {
  store: EventStore;
  sql: postgres.Sql;
  accessKeys: readonly Buffer[];
  sealKeys: SealKeys | null;
}

/** The streams of a clinic, as the audit log's subjects know them (a stream deleted from the store is still listed there). */
export async function clinicStreams(sql: postgres.Sql, clinicId: string): Promise<string[]> {
  const rows = await drizzle(sql).select({ streamId: rmAuditSubjects.streamId }).from(rmAuditSubjects).where(eq(rmAuditSubjects.clinicId, clinicId)).orderBy(asc(rmAuditSubjects.streamId));
  return rows.map((r) => r.streamId);
}

export async function runIntegrityCheck(
  deps: CheckDeps,
  scope: CheckScope,
  options: { sealFile?: unknown; onProgress?: (p: CheckProgress) => void; signal?: AbortSignal } = {},
): Promise<CheckReport> {
  const startedAt = new Date().toISOString();
  const progress: CheckProgress = { phase: 'events', eventsChecked: 0, streamsChecked: 0, accessRowsChecked: 0, sealEventsCompared: 0 };
  const report = () => options.onProgress?.({ ...progress });
  const onEvents = (p: { eventsChecked: number; streamsChecked: number }) => {
    progress.eventsChecked = p.eventsChecked;
    progress.streamsChecked = p.streamsChecked;
    report();
  };
  const signal = options.signal;

  let events: VerifyResult;
  if (scope.kind === 'stream') {
    try {
      events = await deps.store.verify({ streamId: scope.streamId, onProgress: onEvents, signal });
    } catch (error) {
      if (!(error instanceof StreamNotFound)) throw error;
      const missing: BrokenLink = { streamId: scope.streamId, revision: 0, eventId: '', position: undefined, problem: 'missing-stream', expected: 'the stream', found: 'no events and no stream head' };
      events = { ok: false, streamsChecked: 0, eventsChecked: 0, firstBroken: missing };
    }
  } else if (scope.kind === 'clinic') {
    const streamIds = await clinicStreams(deps.sql, scope.clinicId);
    events = await deps.store.verify({ streamIds, onProgress: onEvents, signal });
  } else {
    events = await deps.store.verify({ onProgress: onEvents, signal });
  }

  let accessLog: AccessVerifyResult | null = null;
  let seal: SealVerification | null = null;
  if (scope.kind === 'all') {
    const comparers = options.sealFile !== undefined ? (deps.sealKeys ? sealComparers(options.sealFile, deps.sealKeys) : null) : null;
    progress.phase = 'access-log';
    report();
    accessLog = await verifyAccessLog(deps.sql, deps.accessKeys, {
      signal,
      onProgress: (n) => {
        progress.accessRowsChecked = n;
        report();
      },
      onRow: comparers?.accessLog ? (row) => comparers.accessLog!.add(String(row.id), accessRowLeaf(row)) : undefined,
    });
    if (comparers) {
      seal = { check: comparers.check };
      if (comparers.events && comparers.accessLog && comparers.body) {
        progress.phase = 'seal';
        report();
        seal.issuedAt = comparers.body.issuedAt;
        seal.accessLog = comparers.accessLog.finish();
        seal.events = await compareEventsWithSeal(deps.store, comparers.events, {
          signal,
          onProgress: (n) => {
            progress.sealEventsCompared = n;
            report();
          },
        });
      }
    } else if (options.sealFile !== undefined) {
      seal = { check: { ok: false, problem: 'unknown-key', detail: 'SEAL_SIGNING_KEY is not configured: no seal can be checked' } };
    }
  }

  const ok = events.ok && (accessLog?.ok ?? true) && (seal ? seal.check.ok && (seal.events?.ok ?? false) && (seal.accessLog?.ok ?? false) : true);
  return { ok, scope, startedAt, finishedAt: new Date().toISOString(), events, accessLog, seal };
}

/** A short, non-personal summary of a report for the security event (stream ids and positions only). */
export function reportSummary(report: CheckReport): Record<string, unknown> {
  return {
    scope: report.scope,
    ok: report.ok,
    eventsChecked: report.events.eventsChecked,
    streamsChecked: report.events.streamsChecked,
    firstBroken: report.events.firstBroken
      ? { streamId: report.events.firstBroken.streamId, revision: report.events.firstBroken.revision, eventId: report.events.firstBroken.eventId, problem: report.events.firstBroken.problem }
      : null,
    accessLog: report.accessLog ? { ok: report.accessLog.ok, rowsChecked: report.accessLog.rowsChecked, firstBroken: report.accessLog.firstBroken } : null,
    seal: report.seal
      ? {
          signature: report.seal.check.ok ? 'ok' : report.seal.check.problem,
          issuedAt: report.seal.issuedAt ?? null,
          eventProblems: report.seal.events?.problems.length ?? null,
          accessLogProblems: report.seal.accessLog?.problems.length ?? null,
          eventsAddedSince: report.seal.events?.addedSince ?? null,
        }
      : null,
  };
}
