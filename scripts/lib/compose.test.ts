import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The services of docker-compose.yml as text blocks (two-space indented keys under `services:`). */
function services(text: string): Map<string, string> {
  const body = text.slice(text.indexOf('\nservices:\n'), text.indexOf('\nvolumes:\n'));
  const blocks = new Map<string, string>();
  for (const part of body.split(/\n(?=  [a-z][\w-]*:\n)/).slice(1)) blocks.set(part.trim().split(':')[0]!, part);
  return blocks;
}

describe('docker-compose.yml', () => {
  // Comments dropped: only what Compose reads counts.
  const text = fs.readFileSync('docker-compose.yml', 'utf8').replace(/^\s*#.*\n/gm, '');
  const blocks = services(text);

  it('publishes only the app', () => {
    expect([...blocks.keys()].sort()).toEqual(['app', 'eventstore', 'eventstore-certs', 'postgres', 'worker']);
    for (const [name, block] of blocks) expect(/\n    ports:/.test(block), name).toBe(name === 'app');
  });

  it('runs EventStoreDB secure (TLS, passwords), without AtomPub', () => {
    const es = blocks.get('eventstore')!;
    expect(es).not.toMatch(/INSECURE|ATOM_PUB/);
    expect(es).toContain('EVENTSTORE_CERTIFICATE_FILE');
    expect(es).toContain('EVENTSTORE_DEFAULT_ADMIN_PASSWORD: ${EVENTSTORE_ADMIN_PASSWORD:?');
    expect(blocks.get('app')).toContain('EVENTSTORE_URL: esdb://admin:${EVENTSTORE_ADMIN_PASSWORD:?');
    expect(blocks.get('app')).toContain('tls=true&tlsCAFile=/certs/ca/ca.crt');
  });

  it('takes every password and secret from the env file, with no default and no literal', () => {
    const required = [...text.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]);
    for (const name of ['AUTH_SECRET', 'EVENT_HMAC_KEY', 'PERSONAL_DATA_MASTER_KEY', 'SEAL_SIGNING_KEY', 'AUTH_URL', 'POSTGRES_PASSWORD', 'EVENTSTORE_ADMIN_PASSWORD', 'EVENTSTORE_OPS_PASSWORD']) {
      expect(required, name).toContain(name);
      expect(text).not.toMatch(new RegExp(`\\$\\{${name}:-`));
    }
    expect(text).not.toMatch(/POSTGRES_PASSWORD: (?!\$)/);
    expect(text).not.toMatch(/yeyak:yeyak@/);
    // Every variable the file needs is in the example env file the README tells people to copy.
    const example = fs.readFileSync('deploy.env.example', 'utf8');
    for (const name of new Set([...text.matchAll(/\$\{([A-Z_]+)[:}]/g)].map((m) => m[1]!))) expect(example, name).toMatch(new RegExp(`^${name}=`, 'm'));
  });

  it('never seeds the demo world: production mode for the app and the worker, in the image too', () => {
    expect(blocks.get('app')).toContain('NODE_ENV: production');
    expect(fs.readFileSync('Dockerfile', 'utf8')).toMatch(/ENV NODE_ENV=production\nUSER node/);
    expect(fs.readFileSync('.dockerignore', 'utf8')).toMatch(/^deploy\.env$/m);
  });
});
