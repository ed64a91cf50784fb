import { headers } from 'next/headers';
import type { NextRequest } from 'next/server';
import { verifyEmailLink } from '@/lib/auth/registration';
import { originOf } from '@/lib/auth/session';

/** The link in the verification e-mail: confirms the address, then on to sign-in with the outcome. */
export async function GET(request: NextRequest) {
  const ok = await verifyEmailLink(request.nextUrl.searchParams.get('token') ?? '', originOf(await headers()));
  // A relative Location: the request's own URL here names the server's bind address, not the site.
  return new Response(null, { status: 303, headers: { location: `/signin?verified=${ok ? '1' : '0'}` } });
}
