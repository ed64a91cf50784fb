import { describe, expect, it } from 'vitest';
import { clientAddress, proxyTrustFromEnv, requestOrigin } from './request-origin';

describe('the client address', () => {
  const off = proxyTrustFromEnv({});
  const on = proxyTrustFromEnv({ TRUST_PROXY: 'true' });

  it('without TRUST_PROXY is the socket’s, whatever the client sends', () => {
    expect(clientAddress('::ffff:198.51.100.7', '203.0.113.99', off)).toBe('198.51.100.7');
    expect(clientAddress('198.51.100.7', undefined, off)).toBe('198.51.100.7');
  });

  it('with TRUST_PROXY=true is the right-most hop none of our proxies wrote, not the first (which the client chose)', () => {
    // Client 198.51.100.7 sent a forged "203.0.113.99"; the load balancer (10.0.0.5) appended what it saw.
    expect(clientAddress('10.0.0.5', '203.0.113.99, 198.51.100.7', on)).toBe('198.51.100.7');
    // Two of our proxies in a row (edge 10.0.0.9 then 10.0.0.5), the header given as several lines.
    expect(clientAddress('10.0.0.5', ['203.0.113.99, 198.51.100.7', '10.0.0.9'], on)).toBe('198.51.100.7');
    // An address named in TRUSTED_PROXIES counts as ours too.
    const cdn = proxyTrustFromEnv({ TRUST_PROXY: 'true', TRUSTED_PROXIES: '192.0.2.10, 192.0.2.11' });
    expect(clientAddress('10.0.0.5', '203.0.113.99, 198.51.100.7, 192.0.2.10', cdn)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.5', '203.0.113.99, 198.51.100.7, 192.0.2.10', on)).toBe('192.0.2.10');
  });

  it('with TRUST_PROXY=true and no header, or only our own hops, falls back to what there is', () => {
    expect(clientAddress('198.51.100.7', undefined, on)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.5', '10.0.0.9', on)).toBe('10.0.0.9');
    expect(clientAddress('::1', undefined, on)).toBe('::1');
  });

  it('TRUST_PROXY must be exactly "true"', () => {
    expect(proxyTrustFromEnv({ TRUST_PROXY: '1' }).enabled).toBe(false);
    expect(proxyTrustFromEnv({ TRUST_PROXY: 'false' }).enabled).toBe(false);
  });

  it('the app reads the one address the web server left in X-Forwarded-For', () => {
    const headers = new Headers({ 'x-forwarded-for': '::ffff:198.51.100.7', 'user-agent': 'ua' });
    expect(requestOrigin(headers)).toEqual({ ip: '198.51.100.7', userAgent: 'ua' });
    expect(requestOrigin(new Headers())).toEqual({ ip: null, userAgent: null });
  });
});
