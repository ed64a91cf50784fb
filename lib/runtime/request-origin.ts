/** Where a request came from, as far as its headers can tell: for security events and event metadata. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

export function requestOrigin(headers: Pick<Headers, 'get'>): RequestOrigin {
  // The first X-Forwarded-For hop is the client as seen by our own front (Next's server sets the header
  // for direct connections). Behind a load balancer, it must be configured to overwrite the header.
  const forwarded = headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  const ip = forwarded || headers.get('x-real-ip') || null;
  return { ip: ip ? ip.replace(/^::ffff:/, '') : null, userAgent: headers.get('user-agent') };
}
