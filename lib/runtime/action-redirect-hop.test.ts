import { describe, expect, it } from 'vitest';
import { isActionRedirectHop, uncompressedActionRedirectHop } from './action-redirect-hop';

describe("Next's redirect hop of a server action", () => {
  it('is a loopback request carrying x-action-redirect', () => {
    const hop = { 'x-action-redirect': '/me/reservations/rsv-1;push', rsc: '1' };
    expect(isActionRedirectHop('127.0.0.1', hop)).toBe(true);
    expect(isActionRedirectHop('::1', hop)).toBe(true);
    expect(isActionRedirectHop('::ffff:127.0.0.1', hop)).toBe(true);
    expect(isActionRedirectHop('203.0.113.7', hop)).toBe(false);
    expect(isActionRedirectHop('10.0.0.5', hop)).toBe(false);
    expect(isActionRedirectHop(undefined, hop)).toBe(false);
    expect(isActionRedirectHop('127.0.0.1', { rsc: '1' })).toBe(false);
  });

  it('loses Accept-Encoding only on that hop', () => {
    const hop: Record<string, string> = { 'x-action-redirect': '/me;push', 'accept-encoding': 'gzip, deflate' };
    uncompressedActionRedirectHop('127.0.0.1', hop);
    expect(hop['accept-encoding']).toBeUndefined();
    const browser: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br' };
    uncompressedActionRedirectHop('127.0.0.1', browser);
    expect(browser['accept-encoding']).toBe('gzip, deflate, br');
    const remote: Record<string, string> = { 'x-action-redirect': '/me;push', 'accept-encoding': 'gzip' };
    uncompressedActionRedirectHop('198.51.100.2', remote);
    expect(remote['accept-encoding']).toBe('gzip');
  });
});
