import type { IncomingHttpHeaders } from 'node:http';

/**
 * A server action that redirects (booking → the reservation page) is answered with the redirect's
 * target rendered: Next fetches that page from this same server (app-render/action-handler.js,
 * createRedirectRenderResult), forwarding the action request's headers and its own response headers,
 * `x-action-redirect` among them. Next drops the browser's Accept-Encoding from that hop, but undici's
 * fetch asks for gzip again, so the page was compressed here, decompressed by undici and compressed
 * once more for the browser (≈ 9 % of the web process's CPU per booking over HTTP, docs/PERFORMANCE.md).
 * That hop never leaves the machine: answered uncompressed, the browser's answer is compressed once.
 *
 * Only a request from a loopback address carrying `x-action-redirect` is treated so; a client that
 * sends the header itself from elsewhere is unaffected, and one on loopback only gets its answer
 * uncompressed.
 */
export function isActionRedirectHop(remoteAddress: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (headers['x-action-redirect'] === undefined) return false;
  return remoteAddress === '127.0.0.1' || remoteAddress === '::1' || remoteAddress === '::ffff:127.0.0.1';
}

/** Drops Accept-Encoding from Next's own redirect hop (see isActionRedirectHop), so the page is not compressed twice over. */
export function uncompressedActionRedirectHop(remoteAddress: string | undefined, headers: IncomingHttpHeaders): void {
  if (isActionRedirectHop(remoteAddress, headers)) delete headers['accept-encoding'];
}
