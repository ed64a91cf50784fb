import { cookies } from 'next/headers';
import type { NextRequest } from 'next/server';
import { sitePath } from '@/lib/auth/callback';

/**
 * Where requireUser sends a session that no longer counts (revoked, deactivated): clears the session
 * cookie (a page cannot), then on to sign-in. Without this, the proxy would see the cookie on /signin
 * and send the user back to their home, which sends them here again.
 */
export async function GET(request: NextRequest) {
  const jar = await cookies();
  for (const { name } of jar.getAll()) {
    if (/^(__Secure-)?authjs\.session-token(\.\d+)?$/.test(name)) {
      jar.set(name, '', { maxAge: 0, path: '/', httpOnly: true, sameSite: 'lax', secure: name.startsWith('__Secure-') });
    }
  }
  const asked = sitePath(request.nextUrl.searchParams.get('callbackUrl'));
  // A relative Location: the request's own URL here names the server's bind address, not the site.
  return new Response(null, { status: 303, headers: { location: asked ? `/signin?callbackUrl=${encodeURIComponent(asked)}` : '/signin' } });
}
