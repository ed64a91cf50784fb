/** Where a request came from, as far as its headers can tell: for security events and event metadata. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

export function requestOrigin(headers: Pick<Headers, 'get'>): RequestOrigin {
  // scripts/web-server.ts sets X-Forwarded-For to the socket's address, replacing anything a client
  // sent; with TRUST_PROXY=true it keeps the load balancer's header, whose first hop is then the client.
  const forwarded = headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  const ip = forwarded || headers.get('x-real-ip') || null;
  return { ip: ip ? ip.replace(/^::ffff:/, '') : null, userAgent: headers.get('user-agent') };
}
