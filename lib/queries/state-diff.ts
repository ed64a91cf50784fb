/**
 * Flattening and diffing of folded entity states (and event data) for the audit entity page. Pure.
 *
 * A state is flattened into leaves, each named by its path (`status`, `policy.freeCancellationHours`,
 * `paymentIds[0]`). A personal-data field (the `PersonalField` shapes of lib/domain/patient/personal)
 * is one leaf that says only which shape it is: its content (ciphertext, or plaintext in an upcast
 * legacy event) never reaches the page.
 */

export type Leaf =
  | { readonly kind: 'value'; readonly value: string | number | boolean | null }
  | { readonly kind: 'personal'; readonly shape: 'encrypted' | 'erased' | 'plain' }
  /** An empty array or object (so that "became empty" is visible). */
  | { readonly kind: 'empty'; readonly container: 'array' | 'object' };

export interface DiffEntry {
  readonly path: string;
  /** Absent: the path did not exist before (added). */
  readonly before?: Leaf;
  /** Absent: the path no longer exists (removed). */
  readonly after?: Leaf;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The shape of a PersonalField, or null if `v` is not one. Checked by shape, not by schema: a malformed envelope is still hidden. */
export function personalShape(v: unknown): 'encrypted' | 'erased' | 'plain' | null {
  if (!isRecord(v)) return null;
  if (v.kind === 'encrypted' && ('ct' in v || 'keyId' in v)) return 'encrypted';
  if (v.kind === 'plain' && isRecord(v.value)) return 'plain';
  if (v.kind === 'erased' && Object.keys(v).length === 1) return 'erased';
  return null;
}

const childPath = (parent: string, key: string) => (parent === '' ? key : `${parent}.${key}`);

/** Every leaf of `value` by path, in the value's own order (object keys as they are, array items by index). */
export function flattenState(value: unknown): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const walk = (v: unknown, path: string) => {
    const shape = personalShape(v);
    if (shape) {
      out.set(path, { kind: 'personal', shape });
    } else if (Array.isArray(v)) {
      if (v.length === 0 && path !== '') out.set(path, { kind: 'empty', container: 'array' });
      v.forEach((item, i) => walk(item, `${path}[${i}]`));
    } else if (isRecord(v)) {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      if (keys.length === 0 && path !== '') out.set(path, { kind: 'empty', container: 'object' });
      for (const k of keys) walk(v[k], childPath(path, k));
    } else if (v === undefined) {
      // Not JSON: nothing to show (a missing optional field).
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) {
      out.set(path, { kind: 'value', value: v });
    } else {
      out.set(path, { kind: 'value', value: String(v) });
    }
  };
  walk(value, '');
  return out;
}

export function sameLeaf(a: Leaf | undefined, b: Leaf | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'value') return Object.is(a.value, (b as typeof a).value);
  if (a.kind === 'personal') return a.shape === (b as typeof a).shape;
  return a.container === (b as typeof a).container;
}

/**
 * The paths whose leaf differs between two states, with the value before and after: the paths of
 * `after` in its order first, then those only `before` had. Personal-data fields compare by shape
 * and, when both are encrypted, by their ciphertext (a re-encrypted or replaced field is a change).
 */
export function diffStates(before: unknown, after: unknown): DiffEntry[] {
  const a = flattenState(before);
  const b = flattenState(after);
  const changes: DiffEntry[] = [];
  for (const [path, leaf] of b) {
    const old = a.get(path);
    if (!old) changes.push({ path, after: leaf });
    else if (!sameLeaf(old, leaf) || personalContentChanged(before, after, path, leaf)) changes.push({ path, before: old, after: leaf });
  }
  for (const [path, leaf] of a) if (!b.has(path)) changes.push({ path, before: leaf });
  return changes;
}

/** Two personal fields at `path` of the same shape: did their (hidden) content change? */
function personalContentChanged(before: unknown, after: unknown, path: string, leaf: Leaf): boolean {
  if (leaf.kind !== 'personal' || leaf.shape === 'erased') return false;
  return JSON.stringify(valueAt(before, path)) !== JSON.stringify(valueAt(after, path));
}

function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (Array.isArray(v) && /^\d+$/.test(part)) v = v[Number(part)];
    else if (isRecord(v)) v = v[part];
    else return undefined;
  }
  return v;
}
