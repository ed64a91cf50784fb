/**
 * Runs an integrity check (lib/queries/integrity.ts integrityCheck) and streams its progress as
 * newline-delimited JSON: `{"type":"progress",…}` a few times a second, then `{"type":"result",
 * "report":…}` (or `{"type":"error"}`). The run is asynchronous (it never holds a thread) and stops when
 * the browser goes away or after MAX_RUN_MS; either way it is recorded. POST with a JSON body only:
 * a cross-site page cannot send one without the browser asking first (CORS), so no CSRF token is needed.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { auditScopeOf } from '@/lib/auth/audit-scope';
import { currentUser } from '@/lib/auth/guard';
import { integrityCheck, integrityRunSchema } from '@/lib/queries/integrity';
import { requestOrigin } from '@/lib/runtime/request-origin';

export const dynamic = 'force-dynamic';

const MAX_RUN_MS = 30 * 60_000;
const PROGRESS_EVERY_MS = 250;
/** A seal file of a log of millions of events is a few MB. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export async function POST(request: NextRequest) {
  const user = await currentUser();
  if (!user) return NextResponse.json({ error: 'unauthenticated' }, { status: 401 });
  const scope = auditScopeOf(user);
  if (!scope) return NextResponse.json({ error: 'forbidden' }, { status: 403 });
  if (!request.headers.get('content-type')?.startsWith('application/json')) return NextResponse.json({ error: 'expected application/json' }, { status: 415 });
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return NextResponse.json({ error: 'too large' }, { status: 413 });
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return NextResponse.json({ error: 'invalid JSON' }, { status: 400 });
  }
  const parsed = integrityRunSchema.safeParse(body);
  if (!parsed.success) return NextResponse.json({ error: 'invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) }, { status: 400 });

  // A manager checks their own clinic, or one stream of it (the query checks the stream's clinic again).
  if (scope.clinicId !== null && (parsed.data.scope === 'all' || (parsed.data.scope === 'clinic' && parsed.data.clinicId !== scope.clinicId))) {
    return NextResponse.json({ error: 'forbidden' }, { status: 403 });
  }
  const origin = requestOrigin(request.headers);
  const signal = AbortSignal.any([request.signal, AbortSignal.timeout(MAX_RUN_MS)]);
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (line: unknown) => {
        try {
          controller.enqueue(encoder.encode(`${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`));
        } catch {
          // the browser went away: the signal stops the run
        }
      };
      let last = 0;
      try {
        const report = await integrityCheck(parsed.data, {
          origin,
          signal,
          onProgress: (p) => {
            const now = Date.now();
            if (now - last < PROGRESS_EVERY_MS) return;
            last = now;
            write({ type: 'progress', ...p });
          },
        });
        write({ type: 'result', report });
      } catch (error) {
        // forbidden()/notFound() of the query: this route answered 403 already for anyone outside the audit area; a manager's out-of-scope run lands here.
        const digest = (error as { digest?: string }).digest ?? '';
        write({ type: 'error', error: digest.includes('403') ? 'forbidden' : signal.aborted ? 'stopped' : 'failed' });
      } finally {
        try {
          controller.close();
        } catch {
          // already closed
        }
      }
    },
  });
  return new Response(stream, {
    headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache, no-store, no-transform', 'x-accel-buffering': 'no' },
  });
}
