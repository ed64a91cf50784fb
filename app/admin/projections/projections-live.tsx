'use client';

import { useEffect, useState, useTransition } from 'react';
import { useLocale, useTranslations } from 'next-intl';
import { requestRebuildAction, retryParkedAction, skipParkedAction, type ProjectionActionResult } from '@/app/actions/projections';
import type { ProjectionsStatus } from '@/lib/queries/projections';
import { Table } from '../../components/table';

const POLL_MS = 1000;

function fmtNumber(n: number | null | undefined, locale: string, digits = 0): string {
  if (n === null || n === undefined) return '—';
  return n.toLocaleString(locale, { maximumFractionDigits: digits });
}

function fmtTime(iso: string | null, locale: string): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(locale, { timeZone: 'Asia/Seoul', dateStyle: 'short', timeStyle: 'medium' });
}

/** The live part of /admin/projections: polls the status route every second while the page is open. */
export function ProjectionsLive({ initial }: { initial: ProjectionsStatus }) {
  const t = useTranslations('projections');
  const locale = useLocale();
  const [status, setStatus] = useState(initial);
  const [stale, setStale] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  useEffect(() => {
    let cancelled = false;
    const tick = async () => {
      try {
        const response = await fetch('/api/admin/projections', { cache: 'no-store' });
        if (!response.ok) throw new Error(String(response.status));
        const next = (await response.json()) as ProjectionsStatus;
        if (!cancelled) {
          setStatus(next);
          setStale(false);
        }
      } catch {
        if (!cancelled) setStale(true);
      }
    };
    const timer = setInterval(() => void tick(), POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, []);

  const run = (action: () => Promise<ProjectionActionResult>, done: string) =>
    startTransition(async () => {
      const result = await action();
      setMessage(result.ok ? done : t(`errors.${result.error}`));
    });

  // A plain function, not a component: the cells must not remount on every poll (keyboard focus).
  const rebuildCell = (p: ProjectionsStatus['projections'][number]) => {
    const r = p.rebuild;
    const fraction = r.running && r.total ? Math.min(1, (r.events ?? 0) / r.total) : null;
    return r.running ? (
        <div className="flex min-w-48 flex-col gap-1">
          <progress className="w-full" max={1} value={fraction ?? undefined} aria-label={t('rebuildProgress', { name: p.name })} />
          <span className="text-xs tabular-nums">
            {t('rebuildRunning', { events: fmtNumber(r.events, locale), rate: fmtNumber(r.eventsPerSecond, locale) })}
          </span>
        </div>
      ) : (
        <div className="flex flex-col gap-1">
          <form action={(fd) => run(() => requestRebuildAction(fd), t('rebuildRequested'))}>
            <input type="hidden" name="name" value={p.name} />
            <button
              type="submit"
              disabled={pending || r.requestedAt !== null}
              className="rounded border border-stone-400 px-2 py-1 text-xs hover:bg-stone-100 disabled:opacity-50"
              aria-label={t('rebuildOne', { name: p.name })}
            >
              {r.requestedAt ? t('rebuildQueued') : t('rebuildButton')}
            </button>
          </form>
          {r.finishedAt && !r.error && (
            <span className="text-xs text-stone-500">
              {t('rebuildDone', { time: fmtTime(r.finishedAt, locale), events: fmtNumber(r.events, locale), rate: fmtNumber(r.eventsPerSecond, locale) })}
            </span>
          )}
          {r.error && <span className="text-xs text-red-700">{t('rebuildFailed', { error: r.error })}</span>}
        </div>
      );
  };

  return (
    <div className="mt-4 flex flex-col gap-6">
      <div role="status" aria-live="polite" className="text-sm">
        {message && <p className="rounded bg-stone-100 p-2">{message}</p>}
        {stale && <p className="rounded bg-amber-100 p-2">{t('stale')}</p>}
      </div>

      <dl className="grid grid-cols-2 gap-2 text-sm sm:grid-cols-4">
        <div>
          <dt className="text-stone-600">{t('group')}</dt>
          <dd className="font-mono">{status.group}</dd>
        </div>
        <div>
          <dt className="text-stone-600">{t('activeWorker')}</dt>
          <dd className="font-mono text-xs">{status.activeConsumer ?? t('none')}</dd>
        </div>
        <div>
          <dt className="text-stone-600">{t('groupCheckpoint')}</dt>
          <dd className="font-mono tabular-nums">{status.groupCheckpoint ?? '—'}</dd>
        </div>
        <div>
          <dt className="text-stone-600">{t('parkedCount')}</dt>
          <dd className="tabular-nums">{fmtNumber(status.parkedCount, locale)}</dd>
        </div>
      </dl>

      <div>
        <div className="flex items-center justify-between">
          <h2 className="text-lg font-semibold">{t('projectionsHeading')}</h2>
          <form action={(fd) => run(() => requestRebuildAction(fd), t('rebuildRequested'))}>
            <input type="hidden" name="name" value="all" />
            <button type="submit" disabled={pending} className="rounded bg-stone-800 px-3 py-1.5 text-sm text-white hover:bg-stone-700 disabled:opacity-50">
              {t('rebuildAll')}
            </button>
          </form>
        </div>
        <div className="mt-2">
          <Table
            caption={t('projectionsHeading')}
            rows={status.projections}
            rowKey={(p) => p.name}
            columns={[
              {
                header: t('name'),
                rowHeader: true,
                className: 'font-mono font-normal',
                cell: (p) => (
                  <>
                    {p.name} <span className="text-stone-500">v{p.codeVersion}</span>
                  </>
                ),
              },
              { header: t('status'), cell: (p) => t(`statuses.${p.status}`) },
              {
                header: t('checkpoint'),
                cell: (p) => (
                  <>
                    <span className="font-mono tabular-nums">{p.checkpoint ?? '—'}</span>
                    <br />
                    <span className="text-xs text-stone-500">{fmtTime(p.checkpointAt, locale)}</span>
                  </>
                ),
              },
              { header: t('lagEvents'), align: 'end', cell: (p) => (p.lagEvents !== null && p.lagEvents > 500 ? '500+' : fmtNumber(p.lagEvents, locale)) },
              { header: t('lagMs'), align: 'end', cell: (p) => fmtNumber(p.lagMs, locale) },
              { header: t('eventsPerSecond'), align: 'end', cell: (p) => fmtNumber(p.eventsPerSecond, locale, 1) },
              { header: t('rebuild'), cell: rebuildCell },
            ]}
          />
        </div>
      </div>

      <div>
        <div className="flex items-center justify-between">
          <h2 className="text-lg font-semibold">{t('parkedHeading')}</h2>
          {status.parked.length > 0 && (
            <form action={() => run(() => retryParkedAction(), t('retryRequested'))}>
              <button type="submit" disabled={pending} className="rounded bg-stone-800 px-3 py-1.5 text-sm text-white hover:bg-stone-700 disabled:opacity-50">
                {t('retryAll')}
              </button>
            </form>
          )}
        </div>
        {status.parked.length === 0 ? (
          <p className="mt-2 text-sm">{t('noParked')}</p>
        ) : (
          <div className="mt-2">
            <Table
              caption={t('parkedHeading')}
              rows={status.parked}
              rowKey={(p) => p.eventId}
              columns={[
                {
                  header: t('event'),
                  rowHeader: true,
                  className: 'font-normal',
                  cell: (p) => (
                    <>
                      <span className="font-mono">{p.type}</span>
                      <br />
                      <span className="font-mono text-xs text-stone-500">{p.eventId}</span>
                    </>
                  ),
                },
                { header: t('stream'), className: 'font-mono text-xs', cell: (p) => `${p.streamId}@${p.revision}` },
                { header: t('error'), className: 'max-w-md font-mono text-xs break-words', cell: (p) => p.reason },
                { header: t('parkedAt'), className: 'text-xs', cell: (p) => fmtTime(p.parkedAt, locale) },
                {
                  header: t('actions'),
                  hideHeader: true,
                  cell: (p) =>
                    p.skipRequested || p.replayRequested ? (
                  <span className="text-xs">{p.skipRequested ? t('skipQueued') : t('retryQueued')}</span>
                ) : (
                  <form action={(fd) => run(() => skipParkedAction(fd), t('skipRequested'))}>
                    <input type="hidden" name="eventId" value={p.eventId} />
                    <button
                      type="submit"
                      disabled={pending}
                      className="rounded border border-red-600 px-2 py-1 text-xs text-red-700 hover:bg-red-50 disabled:opacity-50"
                      aria-label={t('skipOne', { type: p.type, stream: p.streamId })}
                    >
                      {t('skip')}
                    </button>
                  </form>
                    ),
                },
              ]}
            />
          </div>
        )}
      </div>
    </div>
  );
}
