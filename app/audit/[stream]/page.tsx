import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getLocale, getTranslations } from 'next-intl/server';
import { formatKrw } from '@/lib/format';
import type { Locale } from '@/lib/i18n/config';
import { auditEntity, parseAsOf, toKstLocalInput, type EntityEvent, type RelatedNode } from '@/lib/queries/audit-entity';
import type { DiffEntry, Leaf } from '@/lib/queries/state-diff';
import { Table } from '../../components/table';

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const [{ stream }, t] = await Promise.all([params, getTranslations('auditEntity')]);
  return { title: `${decodeURIComponent(stream)} · ${t('title')}` };
}

type Props = { params: Promise<{ stream: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };
/** The page's translator (auditEntity namespace), passed to its parts. */
type T = (key: string, values?: Record<string, string | number>) => string;

const KST_OFFSET_MS = 9 * 60 * 60 * 1000;

/** Audit times to the millisecond, the same in both locales: 2025-03-02 12:00:30.250 KST. */
function kst(at: Date | null): string {
  if (!at) return '—';
  return `${new Date(at.getTime() + KST_OFFSET_MS).toISOString().slice(0, 23).replace('T', ' ')} KST`;
}

const entityHref = (streamId: string, revision?: number) => `/audit/${encodeURIComponent(streamId)}${revision === undefined ? '' : `#rev-${revision}`}`;

/** A personal value the page does not show: encrypted (not decrypted here) or erased. */
function Personal({ shape, t }: { shape: 'encrypted' | 'erased' | 'plain'; t: T }) {
  return <span className="rounded bg-stone-100 px-1 italic text-stone-700">{t(`personal.${shape}`)}</span>;
}

function LeafValue({ leaf, path, t, locale }: { leaf: Leaf | undefined; path: string; t: T; locale: Locale }) {
  if (!leaf) return <span className="text-stone-400">{t('absent')}</span>;
  if (leaf.kind === 'personal') return <Personal shape={leaf.shape} t={t} />;
  if (leaf.kind === 'empty') return <span className="text-stone-500">{leaf.container === 'array' ? '[]' : '{}'} {t('empty')}</span>;
  const v = leaf.value;
  if (typeof v === 'number' && /Krw$/.test(path)) {
    return (
      <span className="tabular-nums">
        {formatKrw(v, locale)} <span className="text-stone-400">({v})</span>
      </span>
    );
  }
  if (v === null || typeof v === 'boolean') return <span className="font-mono text-stone-600">{String(v)}</span>;
  return <span className="break-all">{String(v)}</span>;
}

function DiffTable({ diff, caption, t, locale }: { diff: readonly DiffEntry[]; caption: string; t: T; locale: Locale }) {
  return (
    <Table
      caption={caption}
      rows={diff}
      rowKey={(d) => d.path}
      columns={[
        { header: t('path'), rowHeader: true, cell: (d) => <Path path={d.path} />, className: 'font-normal' },
        { header: t('before'), cell: (d) => <LeafValue leaf={d.before} path={d.path} t={t} locale={locale} /> },
        { header: t('after'), cell: (d) => <LeafValue leaf={d.after} path={d.path} t={t} locale={locale} /> },
      ]}
    />
  );
}

/** A state path; monospace (no Hangul in paths), broken anywhere so a long one never widens a 375 px page. */
function Path({ path }: { path: string }) {
  return <span className="break-all font-mono text-xs">{path}</span>;
}

function Meta({ label, children, mono = true }: { label: string; children: React.ReactNode; mono?: boolean }) {
  return (
    <div className="flex min-w-0 flex-col sm:flex-row sm:gap-2">
      <dt className="shrink-0 text-stone-500 sm:w-36">{label}</dt>
      <dd className={`min-w-0 break-all ${mono ? 'font-mono text-xs leading-5' : ''}`}>{children ?? '—'}</dd>
    </div>
  );
}

function EventArticle({ e, streamId, t, locale }: { e: EntityEvent; streamId: string; t: T; locale: Locale }) {
  const headingId = `rev-${e.revision}-heading`;
  return (
    <li id={`rev-${e.revision}`} className="scroll-mt-4">
      <article aria-labelledby={headingId} className="flex flex-col gap-3 rounded-lg border border-stone-200 bg-white p-4" data-testid={`event-${e.revision}`}>
        <header className="flex flex-wrap items-baseline justify-between gap-2">
          <h3 id={headingId} className="font-mono text-base font-semibold">
            {t('eventHeading', { revision: e.revision, type: e.type })} <span className="font-normal text-stone-500">v{e.schemaVersion}</span>
          </h3>
          <Link href={`${entityHref(streamId)}?rev=${e.revision}#state`} className="text-sm text-brand-700 underline">{t('stateAtThis')}</Link>
        </header>
        <dl aria-label={t('metadata', { revision: e.revision })} className="grid grid-cols-1 gap-x-6 gap-y-1 text-sm lg:grid-cols-2">
          <Meta label={t('actor')}>
            {e.actorId} <span className="text-stone-500">({e.actorRole})</span>
          </Meta>
          <Meta label={t('command')}>{e.commandType}</Meta>
          <Meta label={t('occurredAt')}>{kst(e.occurredAt)}</Meta>
          <Meta label={t('recordedAt')}>{kst(e.recordedAt)}</Meta>
          <Meta label={t('correlation')}>{e.correlationId}</Meta>
          <Meta label={t('causation')}>{e.causationId}</Meta>
          <Meta label={t('commandId')}>{e.commandId}</Meta>
          <Meta label={t('clinic')}>{e.clinicId}</Meta>
          <Meta label={t('ip')}>{e.origin === 'erased' || e.origin === 'encrypted' ? <Personal shape={e.origin} t={t} /> : e.ip}</Meta>
          <Meta label={t('userAgent')}>{e.origin === 'erased' || e.origin === 'encrypted' ? <Personal shape={e.origin} t={t} /> : e.userAgent}</Meta>
          <Meta label={t('eventId')}>{e.eventId}</Meta>
          <Meta label={t('position')}>{e.position}</Meta>
          <Meta label={t('revision')}>{e.revision}</Meta>
        </dl>
        {e.unreadable ? (
          <p role="note" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm">{t('unreadable')}</p>
        ) : (
          <>
            {e.diff.length === 0 ? (
              <p className="text-sm text-stone-600">{t('noChange')}</p>
            ) : (
              <DiffTable diff={e.diff} caption={t('diff', { revision: e.revision })} t={t} locale={locale} />
            )}
            <details className="text-sm">
              <summary className="cursor-pointer text-brand-700 underline">{t('data', { count: e.data.length })}</summary>
              <div className="mt-2">
                <Table
                  caption={t('dataCaption', { revision: e.revision })}
                  rows={e.data}
                  rowKey={(d) => d.path}
                  columns={[
                    { header: t('path'), rowHeader: true, cell: (d) => <Path path={d.path} />, className: 'font-normal' },
                    { header: t('value'), cell: (d) => <LeafValue leaf={d.leaf} path={d.path} t={t} locale={locale} /> },
                  ]}
                />
              </div>
            </details>
          </>
        )}
      </article>
    </li>
  );
}

function RelatedList({ nodes, t }: { nodes: readonly RelatedNode[]; t: T }) {
  return (
    <ul className="flex flex-col gap-1 border-l-2 border-stone-200 pl-3">
      {nodes.map((n) => (
        <li key={n.eventId} className="text-sm">
          <div className="flex flex-wrap items-baseline gap-x-2">
            <span className="font-mono font-semibold">{n.type}</span>
            {n.inThisStream ? (
              <a href={`#rev-${n.revision}`} className="text-xs text-brand-700 underline">
                <span className="font-mono">#{n.revision}</span> ({t('thisEntity')})
              </a>
            ) : (
              <Link href={entityHref(n.streamId, n.revision)} className="break-all font-mono text-xs text-brand-700 underline">
                {n.streamId}#{n.revision}
              </Link>
            )}
            <span className="text-xs text-stone-500">
              {kst(n.occurredAt)} · {n.actorId} ({n.actorRole})
            </span>
          </div>
          {n.children.length > 0 && (
            <div className="mt-1">
              <RelatedList nodes={n.children} t={t} />
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

export default async function AuditEntityPage({ params, searchParams }: Props) {
  const [{ stream }, raw] = await Promise.all([params, searchParams]);
  const streamId = decodeURIComponent(stream);
  const query = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const { asOf: request, invalid } = parseAsOf(query);
  // Authorises first (auditors only), also when the stream does not exist.
  const h = await auditEntity(streamId, request);
  const [tr, locale] = await Promise.all([getTranslations('auditEntity'), getLocale() as Promise<Locale>]);
  const t = tr as unknown as T;
  if (!h) notFound();
  const last = h.events.at(-1)!;
  const field = 'flex flex-col gap-1 text-sm';
  const input = 'rounded border border-stone-300 bg-white px-2 py-1';
  const button = 'self-start rounded bg-brand-600 px-4 py-1.5 text-white hover:bg-brand-700';
  const asOfTitle = !h.asOf
    ? null
    : h.asOf.request.kind === 'revision'
      ? t('asOfRevision', { revision: h.asOf.revision ?? 0 })
      : h.asOf.revision === null
        ? t('asOfMomentBeforeFirst', { at: kst(h.asOf.request.at) })
        : t('asOfMomentTitle', { at: kst(h.asOf.request.at), revision: h.asOf.revision });

  return (
    <article className="flex min-w-0 flex-col gap-8">
      <header className="flex flex-col gap-2">
        <Link href="/audit" className="text-sm text-brand-700 underline">← {t('back')}</Link>
        <p className="text-sm text-stone-500">
          {t(`kinds.${h.kind}`)} · {t('eventCount', { count: h.events.length })}
        </p>
        <h1 className="break-all font-mono text-xl font-bold sm:text-2xl">{h.streamId}</h1>
        <p className="text-sm text-stone-600">{t('intro')}</p>
      </header>

      <section id="state" aria-labelledby="state-heading" className="flex flex-col gap-3">
        <h2 id="state-heading" className="text-lg font-semibold">{t('state')}</h2>
        {invalid && (
          <p role="alert" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-testid="as-of-error">{t('invalidAsOf')}</p>
        )}
        {h.asOfOutOfRange && request?.kind === 'revision' && (
          <p role="alert" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-testid="as-of-error">{t('outOfRange', { revision: request.revision })}</p>
        )}
        <div className="flex flex-col gap-3 sm:flex-row sm:flex-wrap sm:items-end">
          <form method="get" action={`${entityHref(h.streamId)}#state`} aria-label={t('asOfEventForm')} className="flex flex-col gap-2 sm:flex-row sm:items-end">
            <label className={field}>
              {t('asOfEvent')}
              <select name="rev" defaultValue={h.asOf?.request.kind === 'revision' ? String(h.asOf.request.revision) : String(Math.max(0, last.revision - 1))} className={`${input} max-w-full`}>
                {h.events.map((e) => (
                  <option key={e.revision} value={e.revision}>
                    {t('asOfEventOption', { revision: e.revision, type: e.type, at: kst(e.recordedAt) })}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className={button}>{t('show')}</button>
          </form>
          <form method="get" action={`${entityHref(h.streamId)}#state`} aria-label={t('asOfMomentForm')} className="flex flex-col gap-2 sm:flex-row sm:items-end">
            <label className={field}>
              {t('asOfMoment')}
              <input
                type="datetime-local"
                name="at"
                step="1"
                required
                defaultValue={toKstLocalInput(h.asOf?.request.kind === 'moment' ? h.asOf.request.at : last.recordedAt)}
                aria-describedby="as-of-moment-hint"
                className={input}
              />
            </label>
            <button type="submit" className={button}>{t('show')}</button>
          </form>
          {h.asOf && (
            <Link href={entityHref(h.streamId)} className="self-start text-sm text-brand-700 underline sm:self-end">{t('currentOnly')}</Link>
          )}
        </div>
        <p id="as-of-moment-hint" className="text-xs text-stone-500">{t('asOfMomentHint')}</p>

        {h.asOf ? (
          <Table
            caption={t('stateCaption')}
            testId="state-comparison"
            rows={h.asOf.comparison}
            rowKey={(c) => c.path}
            rowClassName={(c) => (c.changed ? 'bg-amber-50' : undefined)}
            rowProps={(c) => ({ 'data-changed': c.changed ? 'true' : undefined })}
            columns={[
              {
                header: t('path'),
                rowHeader: true,
                className: 'font-normal',
                cell: (c) => (
                  <>
                    <Path path={c.path} />
                    {c.changed && <span className="ml-2 rounded bg-amber-200 px-1 font-sans text-[0.7rem] text-amber-900">{t('changed')}</span>}
                  </>
                ),
              },
              { header: asOfTitle, cell: (c) => <LeafValue leaf={c.asOf} path={c.path} t={t} locale={locale} /> },
              { header: t('current'), cell: (c) => <LeafValue leaf={c.current} path={c.path} t={t} locale={locale} /> },
            ]}
          />
        ) : (
          <Table
            caption={t('currentStateCaption')}
            testId="state-current"
            rows={h.current}
            rowKey={(c) => c.path}
            columns={[
              { header: t('path'), rowHeader: true, cell: (c) => <Path path={c.path} />, className: 'font-normal' },
              { header: t('current'), cell: (c) => <LeafValue leaf={c.leaf} path={c.path} t={t} locale={locale} /> },
            ]}
          />
        )}
      </section>

      <section aria-labelledby="related-heading" className="flex flex-col gap-3">
        <h2 id="related-heading" className="text-lg font-semibold">{t('related')}</h2>
        <p className="text-sm text-stone-600">{t('relatedIntro')}</p>
        {h.conversations.length === 0 ? (
          <p className="text-sm">{t('noRelated')}</p>
        ) : (
          <ul className="flex flex-col gap-4">
            {h.conversations.map((c) => (
              <li key={c.correlationId} className="rounded-lg border border-stone-200 bg-white p-3" data-testid="conversation">
                <h3 className="mb-2 break-all text-xs text-stone-600">
                  <Link href={`/audit?correlation=${encodeURIComponent(c.correlationId)}`} className="underline">{t('conversation', { id: c.correlationId })}</Link>
                </h3>
                <RelatedList nodes={c.roots} t={t} />
                {c.truncated && <p className="mt-2 text-xs text-stone-500">{t('truncated')}</p>}
              </li>
            ))}
          </ul>
        )}
        {h.localConversations > 0 && <p className="text-xs text-stone-500">{t('localConversations', { count: h.localConversations })}</p>}
      </section>

      <section aria-labelledby="events-heading" className="flex flex-col gap-3">
        <h2 id="events-heading" className="text-lg font-semibold">{t('events')}</h2>
        <ol className="flex flex-col gap-4">
          {h.events.map((e) => (
            <EventArticle key={e.eventId} e={e} streamId={h.streamId} t={t} locale={locale} />
          ))}
        </ol>
      </section>
    </article>
  );
}
