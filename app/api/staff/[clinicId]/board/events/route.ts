/**
 * The visit board's live feed (server-sent events), for the staff of this clinic only (401 signed out,
 * 403 anyone else, decided here on the server before anything is streamed).
 *
 * Each event's id is the board's version (lib/queries/board.ts: a digest of its visits' revisions).
 * On connect the route compares the version the browser last saw (Last-Event-ID on a reconnect, else
 * `?since=`, the version the page was rendered with) with the current one and sends `changed` at once
 * when they differ, so nothing missed while disconnected is lost; then it sends `changed` whenever the
 * visit-board projection announces a commit for this clinic and the version moved. The browser fetches
 * the board itself (router.refresh): no polling loop. `retry:` sets the reconnect delay; a comment every
 * 15 s keeps proxies from closing an idle stream; the stream ends after a few minutes so the browser
 * reconnects and the session is checked again.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { currentUser } from '@/lib/auth/guard';
import { boardChanges, boardVersion } from '@/lib/queries/board';
import { staffDay } from '@/lib/queries/staff';

export const dynamic = 'force-dynamic';

const RETRY_MS = 1000;
const HEARTBEAT_MS = 15_000;
const MAX_STREAM_MS = 5 * 60_000;

export async function GET(request: NextRequest, { params }: { params: Promise<{ clinicId: string }> }) {
  const { clinicId } = await params;
  const user = await currentUser();
  if (!user) return NextResponse.json({ error: 'unauthenticated' }, { status: 401 });
  if (user.role !== 'staff' || user.clinicId !== clinicId) return NextResponse.json({ error: 'forbidden' }, { status: 403 });

  const day = staffDay(request.nextUrl.searchParams.get('day') ?? undefined);
  const seen = request.headers.get('last-event-id') ?? request.nextUrl.searchParams.get('since');
  const encoder = new TextEncoder();
  let cleanup = () => {};

  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let closed = false;
      let sent = seen;
      let checking = false;
      let again = false;
      // Notifications before the first version is read are covered by that read (it comes after the LISTEN).
      let started = false;
      let missed = false;
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          close();
        }
      };
      const announce = (event: 'ready' | 'changed', version: string) => {
        sent = version;
        write(`id: ${version}\nevent: ${event}\ndata: ${JSON.stringify({ version })}\n\n`);
      };
      // One check at a time; a notification during a check runs one more after it.
      const check = async () => {
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        try {
          do {
            again = false;
            const version = await boardVersion(clinicId, day);
            if (version !== sent) announce('changed', version);
          } while (again && !closed);
        } catch {
          // the database hiccupped: the next notification (or the reconnect's catch-up) checks again
        } finally {
          checking = false;
        }
      };
      const unsubscribe = await boardChanges()
        .subscribe((changed) => {
          if (changed !== null && changed !== clinicId) return;
          if (started) void check();
          else missed = true;
        })
        .catch(() => null);
      const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
      const end = setTimeout(() => close(), MAX_STREAM_MS);
      function close() {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearTimeout(end);
        unsubscribe?.();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      }
      cleanup = close;
      request.signal.addEventListener('abort', close);
      write(`retry: ${RETRY_MS}\n\n`);
      if (!unsubscribe) {
        // No LISTEN: end the stream; the browser reconnects after `retry` and catches up then.
        close();
        return;
      }
      try {
        const version = await boardVersion(clinicId, day);
        if (seen && seen !== version) announce('changed', version);
        else announce('ready', version);
        started = true;
        if (missed) void check();
      } catch {
        close(); // the browser reconnects and catches up
      }
    },
    cancel() {
      cleanup();
    },
  });

  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: compression would buffer the stream.
      'cache-control': 'no-cache, no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    },
  });
}
