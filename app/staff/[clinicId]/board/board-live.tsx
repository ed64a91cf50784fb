'use client';

import { useEffect, useRef, useState } from 'react';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'next-intl';

/**
 * Keeps the board live: one EventSource on the board's event stream; on `changed` the page is
 * rendered again on the server (router.refresh), so every open board follows every move within the
 * projection's lag. No polling: the browser only fetches when told. EventSource reconnects by itself
 * (after the server's `retry:`), sending Last-Event-ID, and the server answers `changed` at once if the
 * board moved meanwhile. `version` (what this page was rendered with) covers the gap before the first
 * connection; when the browser goes offline the stream is dropped and a new one opened from the last id
 * seen when it is back.
 */
export function BoardLive({ clinicId, day, version }: { clinicId: string; day: string; version: string }) {
  const t = useTranslations('visitBoard');
  const router = useRouter();
  const [status, setStatus] = useState<'connecting' | 'live' | 'reconnecting' | 'closed'>('connecting');
  const rendered = useRef(version);
  rendered.current = version;

  useEffect(() => {
    let source: EventSource | null = null;
    // The last event id seen: a fresh EventSource (after the browser went offline) starts from it.
    let lastId = rendered.current;
    const connect = () => {
      source?.close();
      const url = `/api/staff/${encodeURIComponent(clinicId)}/board/events?day=${encodeURIComponent(day)}&since=${encodeURIComponent(lastId)}`;
      const s = new EventSource(url);
      source = s;
      s.addEventListener('ready', (e) => {
        lastId = (e as MessageEvent<string>).lastEventId || lastId;
        setStatus('live');
      });
      s.addEventListener('changed', (e) => {
        const event = e as MessageEvent<string>;
        lastId = event.lastEventId || lastId;
        setStatus('live');
        try {
          const { version: next } = JSON.parse(event.data) as { version: string };
          if (next === rendered.current) return; // this page already shows it (its own action re-rendered it)
        } catch {
          // refresh anyway
        }
        router.refresh();
      });
      // The browser retries by itself while readyState is CONNECTING; CLOSED means it gave up (e.g. 403).
      s.onerror = () => setStatus(s.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    };
    // A lost network does not always break an open stream at once: drop it when the browser knows it
    // is offline, and open a new one (from the last id seen) when it is back.
    const offline = () => {
      source?.close();
      setStatus('reconnecting');
    };
    window.addEventListener('offline', offline);
    window.addEventListener('online', connect);
    connect();
    return () => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', connect);
      source?.close();
    };
  }, [clinicId, day, router]);

  return (
    <p role="status" aria-live="polite" data-testid="board-live" data-status={status} className="flex items-center gap-2 text-sm text-stone-600">
      <span aria-hidden className={`inline-block h-2 w-2 rounded-full ${status === 'live' ? 'bg-emerald-500' : status === 'closed' ? 'bg-red-500' : 'bg-amber-400'}`} />
      {t(`live.${status}`)}
    </p>
  );
}

/**
 * Time in the current stage, counting up on the client (display only; no request), and past the
 * clinic's threshold for the stage marked overdue (`data-overdue`; the card highlights itself with
 * `:has()`). It ticks at each whole minute of the elapsed time, so the highlight appears the moment
 * the threshold passes, without a reload.
 */
export function StageTime({ since, thresholdMinutes }: { since: string; thresholdMinutes: number | null }) {
  const t = useTranslations('visitBoard');
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    const start = Date.parse(since);
    let timer: ReturnType<typeof setTimeout>;
    const tick = () => {
      const at = Date.now();
      setNow(at);
      const intoMinute = (((at - start) % 60_000) + 60_000) % 60_000;
      timer = setTimeout(tick, Math.max(250, 60_000 - intoMinute + 50));
    };
    tick();
    return () => clearTimeout(timer);
  }, [since]);
  const minutes = now === null ? null : Math.max(0, Math.floor((now - Date.parse(since)) / 60_000));
  const overdue = minutes !== null && thresholdMinutes !== null && minutes >= thresholdMinutes;
  const duration = (m: number) => (m < 60 ? t('minutes', { minutes: m }) : t('hours', { hours: Math.floor(m / 60), minutes: m % 60 }));
  return (
    <span data-testid="stage-time" data-overdue={overdue ? 'true' : 'false'} className="inline-flex flex-wrap items-center gap-1">
      <span data-testid="elapsed" className={`tabular-nums ${overdue ? 'font-semibold text-red-700' : ''}`}>
        {minutes === null ? '' : duration(minutes)}
      </span>
      {thresholdMinutes !== null &&
        (overdue ? (
          <span data-testid="overdue" className="rounded bg-red-100 px-1.5 py-0.5 text-[11px] font-semibold text-red-800">
            {t('overThreshold', { limit: duration(thresholdMinutes) })}
          </span>
        ) : (
          <span className="text-stone-400">{t('threshold', { limit: duration(thresholdMinutes) })}</span>
        ))}
    </span>
  );
}
