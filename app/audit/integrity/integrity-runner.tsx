'use client';

import { useRef, useState } from 'react';
import { useLocale, useTranslations } from 'next-intl';
import { formatSeoulDateTime } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import type { CheckProgress, CheckReport } from '@/lib/integrity/check';

type Scope = 'stream' | 'clinic' | 'all';
type Status = { kind: 'idle' } | { kind: 'running'; progress: CheckProgress | null; startedAt: number } | { kind: 'done'; report: CheckReport } | { kind: 'error'; error: string };

/**
 * The run form: scope, optional seal file, progress while the route streams it, and the result naming
 * the first broken link (stream, revision, event id, what was expected and what was found).
 */
export function IntegrityRunner({ clinics, clinicScope }: { clinics: Array<{ id: string; name: string }>; clinicScope: string | null }) {
  const t = useTranslations('integrity');
  const [scope, setScope] = useState<Scope>(clinicScope ? 'clinic' : 'all');
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const [sealError, setSealError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  async function run(form: HTMLFormElement) {
    const data = new FormData(form);
    let body: Record<string, unknown>;
    if (scope === 'stream') body = { scope, streamId: String(data.get('streamId') ?? '') };
    else if (scope === 'clinic') body = { scope, clinicId: String(data.get('clinicId') ?? '') };
    else {
      body = { scope };
      const file = data.get('sealFile');
      const pasted = String(data.get('sealText') ?? '').trim();
      const text = file instanceof File && file.size > 0 ? await file.text() : pasted;
      if (text) {
        try {
          body.seal = JSON.parse(text);
        } catch {
          setSealError(t('sealNotJson'));
          return;
        }
      }
    }
    setSealError(null);
    const controller = new AbortController();
    abort.current = controller;
    setStatus({ kind: 'running', progress: null, startedAt: Date.now() });
    try {
      const response = await fetch('/audit/integrity/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal });
      if (!response.ok || !response.body) {
        setStatus({ kind: 'error', error: response.status === 403 ? 'forbidden' : 'failed' });
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffer.slice(0, newline)) as { type: string; report?: CheckReport; error?: string } & CheckProgress;
          buffer = buffer.slice(newline + 1);
          if (line.type === 'progress') setStatus((s) => (s.kind === 'running' ? { ...s, progress: line } : s));
          else if (line.type === 'result' && line.report) setStatus({ kind: 'done', report: line.report });
          else if (line.type === 'error') setStatus({ kind: 'error', error: line.error ?? 'failed' });
        }
      }
    } catch {
      setStatus({ kind: 'error', error: controller.signal.aborted ? 'stopped' : 'failed' });
    } finally {
      abort.current = null;
    }
  }

  const running = status.kind === 'running';
  const input = 'rounded border border-stone-300 bg-white px-2 py-1';
  return (
    <section aria-labelledby="run" className="flex flex-col gap-4">
      <h2 id="run" className="text-lg font-semibold">{t('run')}</h2>
      <form
        className="flex flex-col gap-3 rounded-lg border border-stone-200 bg-white p-4"
        onSubmit={(e) => {
          e.preventDefault();
          void run(e.currentTarget);
        }}
      >
        <fieldset className="flex flex-wrap gap-4 text-sm">
          <legend className="mb-1 font-medium">{t('scope')}</legend>
          {(['stream', 'clinic', 'all'] as const)
            .filter((s) => clinicScope === null || s !== 'all')
            .map((s) => (
              <label key={s} className="flex items-center gap-2">
                <input type="radio" name="scope" value={s} checked={scope === s} onChange={() => setScope(s)} />
                {t(`scope_${s}`)}
              </label>
            ))}
        </fieldset>
        {scope === 'stream' && (
          <label className="flex flex-col gap-1 text-sm">
            {t('streamId')}
            <input name="streamId" required className={input} placeholder="reservation-…" />
          </label>
        )}
        {scope === 'clinic' && (
          <label className="flex flex-col gap-1 text-sm">
            {t('clinic')}
            <select name="clinicId" required className={input} defaultValue={clinicScope ?? clinics[0]?.id}>
              {clinics.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.id})
                </option>
              ))}
            </select>
          </label>
        )}
        {scope === 'all' && (
          <div className="flex flex-col gap-2 text-sm">
            <p className="text-stone-600">{t('allIntro')}</p>
            <label className="flex flex-col gap-1">
              {t('sealFile')}
              <input type="file" name="sealFile" accept="application/json,.json" className="text-sm" />
            </label>
            <label className="flex flex-col gap-1">
              {t('sealText')}
              <textarea name="sealText" rows={3} className={`${input} font-mono text-xs`} />
            </label>
            {sealError && (
              <p role="alert" className="text-red-800">
                {sealError}
              </p>
            )}
          </div>
        )}
        <div className="flex flex-wrap gap-3">
          <button type="submit" disabled={running} className="min-h-9 rounded bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700 disabled:opacity-60">
            {t('start')}
          </button>
          {running && (
            <button type="button" onClick={() => abort.current?.abort()} className="min-h-9 rounded border border-stone-300 bg-white px-3 py-1.5 text-sm">
              {t('stop')}
            </button>
          )}
        </div>
      </form>

      {status.kind === 'running' && (
        <p role="status" aria-live="polite" className="text-sm" data-testid="integrity-progress">
          {t('progress', {
            phase: t(`phase_${status.progress?.phase ?? 'events'}`),
            events: status.progress?.eventsChecked ?? 0,
            streams: status.progress?.streamsChecked ?? 0,
            rows: status.progress?.accessRowsChecked ?? 0,
            compared: status.progress?.sealEventsCompared ?? 0,
          })}
        </p>
      )}
      {status.kind === 'error' && (
        <p role="alert" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900" data-testid="integrity-error">
          {t(`error_${status.error === 'forbidden' || status.error === 'stopped' ? status.error : 'failed'}`)}
        </p>
      )}
      {status.kind === 'done' && <Result report={status.report} />}
    </section>
  );
}

function Result({ report }: { report: CheckReport }) {
  const t = useTranslations('integrity');
  const locale = useLocale() as Locale;
  const broken = report.events.firstBroken;
  const access = report.accessLog;
  const seal = report.seal;
  const box = report.ok ? 'border-green-300 bg-green-50' : 'border-red-300 bg-red-50';
  return (
    <div className={`flex flex-col gap-3 rounded-lg border p-4 text-sm ${box}`} data-testid="integrity-result" data-ok={report.ok ? 'true' : 'false'}>
      <p className="text-base font-semibold">{report.ok ? t('resultOk') : t('resultBroken')}</p>
      <p>{t('checked', { events: report.events.eventsChecked, streams: report.events.streamsChecked })}</p>
      {broken && (
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1" data-testid="first-broken">
          <dt className="font-medium">{t('stream')}</dt>
          <dd className="break-all">
            <a className="text-brand-700 underline" href={`/audit/${encodeURIComponent(broken.streamId)}`}>
              {broken.streamId}
            </a>
          </dd>
          <dt className="font-medium">{t('revision')}</dt>
          <dd>{broken.revision}</dd>
          <dt className="font-medium">{t('eventId')}</dt>
          <dd className="break-all font-mono text-xs" data-testid="broken-event-id">
            {broken.eventId || '—'}
          </dd>
          <dt className="font-medium">{t('problem')}</dt>
          <dd>{t(`problem_${broken.problem}`)}</dd>
          <dt className="font-medium">{t('expected')}</dt>
          <dd className="break-all font-mono text-xs">{broken.expected}</dd>
          <dt className="font-medium">{t('found')}</dt>
          <dd className="break-all font-mono text-xs">{broken.found}</dd>
        </dl>
      )}
      {access && (
        <div data-testid="access-result">
          <p className="font-medium">{access.ok ? t('accessOk', { rows: access.rowsChecked, unchained: access.unchainedRows }) : t('accessBroken', { id: access.firstBroken?.id ?? 0 })}</p>
          {access.firstBroken && (
            <p className="break-all font-mono text-xs">
              {t(`problem_${access.firstBroken.problem}`)} — {t('expected')}: {access.firstBroken.expected} · {t('found')}: {access.firstBroken.found}
            </p>
          )}
        </div>
      )}
      {seal && (
        <div data-testid="seal-result" className="flex flex-col gap-1">
          <p className="font-medium">{seal.check.ok ? t('sealSignatureOk', { at: seal.issuedAt ? formatSeoulDateTime(new Date(seal.issuedAt), locale) : '' }) : t(`seal_${seal.check.problem}`)}</p>
          {!seal.check.ok && <p className="break-all text-xs">{seal.check.detail}</p>}
          {[seal.events, seal.accessLog].map(
            (c, i) =>
              c && (
                <div key={i}>
                  <p>{t(i === 0 ? 'sealEvents' : 'sealAccess', { sealed: c.sealedCount, found: c.foundCount, added: c.addedSince })}</p>
                  <ul className="list-disc pl-5">
                    {c.problems.map((p, j) => (
                      <li key={j} data-testid="seal-problem">
                        {t(`segment_${p.kind}`, { n: Math.abs(p.sealedCount - p.foundCount), sealed: p.sealedCount, found: p.foundCount, after: p.after ?? t('logStart'), last: p.last })}
                      </li>
                    ))}
                  </ul>
                  {c.moreProblems && <p>{t('moreProblems')}</p>}
                </div>
              ),
          )}
        </div>
      )}
    </div>
  );
}
