import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientNamespaces, clientSegmentDirs, pickNamespaces, type ClientSegment } from './client-namespaces';
import { loadMessages } from './messages';

const root = path.resolve(import.meta.dirname, '../..');
const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p);
    return /\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

const appFiles = filesUnder(path.join(root, 'app'));
const isClient = (source: string) => /^\s*['"]use client['"]/.test(source);
const segments = Object.keys(clientNamespaces) as ClientSegment[];
const segmentOf = (file: string) => segments.find((s) => clientSegmentDirs[s].some((d) => file.startsWith(`${d}/`)));
/** Components shared by every segment (app/components): what they translate must reach every segment. */
const shared = (file: string) => file.startsWith('app/components/');

describe('client message namespaces', () => {
  it('every client component that translates sits in a segment whose layout hands over its namespaces', async () => {
    const messages = await loadMessages('ko');
    const missing: string[] = [];
    let checked = 0;
    for (const f of appFiles) {
      const source = fs.readFileSync(f, 'utf8');
      if (!isClient(source)) continue;
      const file = rel(f);
      const used = [...source.matchAll(/useTranslations\(\s*(?:'([^']*)')?\s*\)/g)];
      if (used.length === 0) continue;
      checked++;
      const targets = shared(file) ? segments : [segmentOf(file)];
      if (!targets[0]) {
        missing.push(`${file}: outside every segment of lib/i18n/client-namespaces.ts (the root layout hands the client no messages)`);
        continue;
      }
      for (const [, ns] of used) {
        if (!ns) continue; // the whole tree, for keys from actions: checked below
        const top = ns.split('.')[0]!;
        expect(messages, `${file}: namespace ${top}`).toHaveProperty(top);
        for (const s of targets) if (!(clientNamespaces[s!] as readonly string[]).includes(top)) missing.push(`${file}: ${top} not in ${s}`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it("every key a segment's server actions answer with is in that segment's namespaces", async () => {
    const messages = await loadMessages('ko');
    const namespaces = Object.keys(messages);
    const keyPattern = new RegExp(String.raw`['\`](${namespaces.join('|')})\.[A-Za-z0-9_$.{}]+`, 'g');
    const missing: string[] = [];
    const actions = fs.readdirSync(path.join(root, 'app/actions')).filter((n) => /\.ts$/.test(n) && !n.endsWith('.test.ts'));
    let pairs = 0;
    for (const name of actions) {
      const source = fs.readFileSync(path.join(root, 'app/actions', name), 'utf8');
      const keys = new Set([...source.matchAll(keyPattern)].map((m) => m[1]!));
      const module = name.replace(/\.ts$/, '');
      // validated.ts's keys (errors.*, domainErrors.*) reach every form; the others reach the segments importing the action.
      const importers = module === 'validated' ? segments : segments.filter((s) => appFiles.some((f) => segmentOf(rel(f)) === s && new RegExp(String.raw`actions/${module}['"]`).test(fs.readFileSync(f, 'utf8'))));
      for (const s of importers) {
        pairs++;
        for (const k of keys) if (!(clientNamespaces[s] as readonly string[]).includes(k)) missing.push(`app/actions/${name}: ${k}.* not in ${s}`);
      }
    }
    expect(pairs).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('every segment has its layout, and the layout names the segment', () => {
    for (const s of segments) {
      for (const d of clientSegmentDirs[s]) {
        const layout = path.join(root, d, 'layout.tsx');
        expect(fs.existsSync(layout), layout).toBe(true);
        expect(fs.readFileSync(layout, 'utf8')).toContain(`segment="${s}"`);
      }
    }
  });

  it('picks the named namespaces only', () => {
    expect(pickNamespaces({ a: { x: '1' }, b: { y: '2' }, c: 'z' }, ['a', 'c', 'missing'])).toEqual({ a: { x: '1' }, c: 'z' });
  });
});
