import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dataDirMode, generateSecrets, loadOrCreateDevSecrets, MissingSecrets, requireSecrets, secretNames, secretProblems } from './secrets';

const tsx = path.resolve('node_modules/tsx/dist/cli.mjs');
const good = generateSecrets();

describe('secrets from the environment', () => {
  it('names every missing secret; an empty or blank string counts as missing', () => {
    const problems = secretProblems(secretNames, { AUTH_SECRET: '', EVENT_HMAC_KEY: '   ' });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^AUTH_SECRET is not set/);
    expect(problems[1]).toMatch(/^EVENT_HMAC_KEY is not set/);
    expect(problems[2]).toMatch(/^PERSONAL_DATA_MASTER_KEY is not set/);
    expect(problems[3]).toMatch(/^SEAL_SIGNING_KEY is not set/);
    expect(() => requireSecrets(secretNames, {})).toThrow(MissingSecrets);
    expect(requireSecrets(secretNames, good)).toEqual(good);
  });

  it('counts key lengths in bytes, not characters', () => {
    // 24 random bytes in base64 are 32 characters: not a 32-byte master key.
    const shortMaster = randomBytes(24).toString('base64');
    expect(shortMaster).toHaveLength(32);
    expect(secretProblems(['PERSONAL_DATA_MASTER_KEY'], { PERSONAL_DATA_MASTER_KEY: shortMaster })).toEqual([
      'PERSONAL_DATA_MASTER_KEY must be base64 of exactly 32 bytes, got 24 bytes',
    ]);
    expect(secretProblems(['PERSONAL_DATA_MASTER_KEY'], { PERSONAL_DATA_MASTER_KEY: 'not base64 at all, 32 characters' })).toHaveLength(1);
    // The seal key is an Ed25519 seed: exactly 32 bytes too.
    expect(secretProblems(['SEAL_SIGNING_KEY'], { SEAL_SIGNING_KEY: shortMaster })).toEqual(['SEAL_SIGNING_KEY must be base64 of exactly 32 bytes, got 24 bytes']);
    // Eleven Hangul syllables are 11 characters but 33 UTF-8 bytes: long enough for the session secret.
    expect(secretProblems(['AUTH_SECRET'], { AUTH_SECRET: '가'.repeat(11) })).toEqual([]);
    expect(secretProblems(['AUTH_SECRET'], { AUTH_SECRET: 'x'.repeat(31) })).toEqual(['AUTH_SECRET must be at least 32 bytes, got 31']);
    expect(secretProblems(['EVENT_HMAC_KEY'], { EVENT_HMAC_KEY: 'x'.repeat(15) })).toEqual(['EVENT_HMAC_KEY must be at least 16 bytes, got 15']);
  });
});

describe('the development secrets file', () => {
  it('keeps .data private and the file at 0600 on every write and load, and keeps the keys it made', () => {
    // 0700; as root 0711, so that the embedded PostgreSQL's own system user can pass through to .data/pg.
    expect(dataDirMode()).toBe(process.getuid?.() === 0 ? 0o711 : 0o700);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yeyak-secrets-'));
    const dataDir = path.join(dir, '.data');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    fs.writeFileSync(path.join(dataDir, 'secrets.json'), JSON.stringify({ AUTH_SECRET: good.AUTH_SECRET }), { mode: 0o644 });
    fs.chmodSync(path.join(dataDir, 'secrets.json'), 0o644);
    const mode = (p: string) => fs.statSync(p).mode & 0o777;

    const first = loadOrCreateDevSecrets(dataDir, {});
    expect(first.AUTH_SECRET).toBe(good.AUTH_SECRET);
    expect(secretProblems(secretNames, first)).toEqual([]);
    expect(first.EMBEDDED_PG_PASSWORD.length).toBeGreaterThanOrEqual(32);
    expect(mode(dataDir)).toBe(dataDirMode());
    expect(mode(path.join(dataDir, 'secrets.json'))).toBe(0o600);

    // A later load that writes nothing still narrows what someone widened.
    fs.chmodSync(dataDir, 0o755);
    fs.chmodSync(path.join(dataDir, 'secrets.json'), 0o644);
    expect(loadOrCreateDevSecrets(dataDir, {})).toEqual(first);
    expect(mode(dataDir)).toBe(dataDirMode());
    expect(mode(path.join(dataDir, 'secrets.json'))).toBe(0o600);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('processes refuse to start without their secrets', () => {
  const run = (script: string, env: Record<string, string | undefined>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(secretNames as readonly string[]).includes(k)));
    // A DATABASE_URL nobody listens on: the refusal must come before any connection.
    return spawnSync(process.execPath, [tsx, script], {
      env: { ...clean, DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none', ...env, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 60_000,
    });
  };

  it('npm start with DATABASE_URL names each missing secret and exits 2', () => {
    const result = run('scripts/start.ts', { AUTH_SECRET: '', EVENT_HMAC_KEY: good.EVENT_HMAC_KEY });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('AUTH_SECRET is not set');
    expect(result.stderr).toContain('PERSONAL_DATA_MASTER_KEY is not set');
    expect(result.stderr).not.toContain('EVENT_HMAC_KEY is not set');
    expect(fs.existsSync('.data/secrets.json') ? fs.readFileSync('.data/secrets.json', 'utf8') : '').not.toContain(good.EVENT_HMAC_KEY);
  });

  it('npm start with DATABASE_URL and every secret still wants AUTH_URL (links in e-mails must not come from a Host header)', () => {
    const result = run('scripts/start.ts', { ...good, AUTH_URL: '' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('AUTH_URL is not set');
    const web = run('scripts/web-server.ts', { ...good, AUTH_URL: '' });
    expect(web.status).toBe(2);
    expect(web.stderr).toContain('AUTH_URL is not set');
  });

  it('the worker and the web server refuse too', () => {
    const worker = run('lib/worker/main.ts', { PERSONAL_DATA_MASTER_KEY: good.PERSONAL_DATA_MASTER_KEY });
    expect(worker.status).toBe(2);
    expect(worker.stdout + worker.stderr).toContain('EVENT_HMAC_KEY is not set');
    const web = run('scripts/web-server.ts', { ...good, PERSONAL_DATA_MASTER_KEY: randomBytes(16).toString('base64') });
    expect(web.status).toBe(2);
    expect(web.stderr).toContain('PERSONAL_DATA_MASTER_KEY must be base64 of exactly 32 bytes, got 16 bytes');
  });
});
