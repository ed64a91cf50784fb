/**
 * The web server, for `npm start` and `npm run dev` alike: Next.js behind a plain Node HTTP server, so
 * what the app believes about a request's origin is decided here, the same way in both modes:
 * - the client address (X-Forwarded-For, used for sign-in throttling, security events and event
 *   metadata) is the socket's, or with TRUST_PROXY=true the right-most hop not written by one of our
 *   proxies (lib/runtime/request-origin.ts clientAddress); `next start` would keep a client-sent header;
 * - client-sent X-Forwarded-Host / -Proto / -Port and Forwarded are dropped unless TRUST_PROXY=true,
 *   so Auth.js (which trusts them to build its URLs when AUTH_URL is unset) sees only the Host header.
 * Refuses to start without its secrets (lib/runtime/secrets.ts) and, outside the embedded start, AUTH_URL.
 */
import http from 'node:http';
import next from 'next';
import { uncompressedActionRedirectHop } from '../lib/runtime/action-redirect-hop';
import { clientAddress, forwardingHeaders, proxyTrustFromEnv } from '../lib/runtime/request-origin';
import { MissingSecrets, requireSecrets, secretNames } from '../lib/runtime/secrets';

const dev = process.argv.includes('--dev');
const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.SERVE_HOST || undefined;
const trust = proxyTrustFromEnv();

try {
  requireSecrets(secretNames);
} catch (error) {
  if (!(error instanceof MissingSecrets)) throw error;
  console.error(error.message);
  process.exit(2);
}
// The site's public origin (links in e-mails, Auth.js's own URLs): from configuration, never from a
// client's Host header, except for the no-configuration embedded start on a developer's machine.
if (process.env.YEYAK_EMBEDDED !== 'true' && !process.env.AUTH_URL?.trim()) {
  console.error('Refusing to start: AUTH_URL is not set (the public origin of the site, e.g. https://booking.example.kr).');
  process.exit(2);
}

const app = next({ dev, port, hostname: hostname ?? 'localhost' });
const handle = app.getRequestHandler();
await app.prepare();

/** Rewrites the forwarding headers of `req` before Next sees them. */
function pinOrigin(req: http.IncomingMessage): void {
  const client = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trust);
  if (!trust.enabled) for (const name of forwardingHeaders) delete req.headers[name];
  req.headers['x-forwarded-for'] = client;
  delete req.headers['x-real-ip'];
}

const server = http.createServer((req, res) => {
  // Next's own fetch of a redirecting action's target page: not compressed on the loopback hop.
  uncompressedActionRedirectHop(req.socket.remoteAddress, req.headers);
  pinOrigin(req);
  void handle(req, res);
});
server.listen(port, hostname, () =>
  console.log(`▲ Next.js ${dev ? 'development' : 'production'} server ready on http://${hostname ?? 'localhost'}:${port}`),
);

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
