import net from 'node:net';

/** Where a request came from, as far as its headers can tell: for security events and event metadata. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/**
 * scripts/web-server.ts replaces X-Forwarded-For with the one client address it resolved (see
 * clientAddress), so the app reads a single value and a client cannot choose it.
 */
export function requestOrigin(headers: Pick<Headers, 'get'>): RequestOrigin {
  const forwarded = headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
  const ip = forwarded || null;
  return { ip: ip ? normaliseAddress(ip) : null, userAgent: headers.get('user-agent') };
}

export function normaliseAddress(address: string): string {
  return address.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/** Loopback and private networks: where a load balancer in front of the app lives. */
const privateNetworks = new net.BlockList();
privateNetworks.addSubnet('127.0.0.0', 8, 'ipv4');
privateNetworks.addSubnet('10.0.0.0', 8, 'ipv4');
privateNetworks.addSubnet('172.16.0.0', 12, 'ipv4');
privateNetworks.addSubnet('192.168.0.0', 16, 'ipv4');
privateNetworks.addSubnet('169.254.0.0', 16, 'ipv4');
privateNetworks.addAddress('::1', 'ipv6');
privateNetworks.addSubnet('fc00::', 7, 'ipv6');
privateNetworks.addSubnet('fe80::', 10, 'ipv6');

export interface ProxyTrust {
  /** TRUST_PROXY=true: the app sits behind proxies that append to X-Forwarded-For. */
  enabled: boolean;
  /** TRUSTED_PROXIES: extra proxy addresses (comma-separated) besides loopback and private networks. */
  extra?: readonly string[];
}

export function proxyTrustFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): ProxyTrust {
  return {
    enabled: env.TRUST_PROXY === 'true',
    extra: (env.TRUSTED_PROXIES ?? '').split(',').map((a) => a.trim()).filter(Boolean).map(normaliseAddress),
  };
}

function isTrustedProxy(address: string, trust: ProxyTrust): boolean {
  if (trust.extra?.includes(address)) return true;
  const family = net.isIP(address);
  if (family === 0) return false;
  return privateNetworks.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client's address. Without TRUST_PROXY it is the socket's, whatever a client sends. With it, the
 * hops are X-Forwarded-For's entries followed by the socket's peer; each proxy appends the address it
 * saw, so walking from the right past our own proxies gives the first hop nobody we trust wrote: the
 * right-most untrusted hop. (The left-most entry is whatever the client put there.)
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trust: ProxyTrust): string {
  const socket = normaliseAddress(socketAddress ?? '');
  if (!trust.enabled) return socket;
  const listed = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((a) => normaliseAddress(a))
    .filter(Boolean);
  const hops = [...listed, socket].filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!isTrustedProxy(hops[i]!, trust)) return hops[i]!;
  }
  return hops[0] ?? socket;
}

/** Headers a client could use to make the app believe another host, scheme or address (dropped unless TRUST_PROXY). */
export const forwardingHeaders = ['x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-for', 'x-real-ip', 'forwarded'] as const;
