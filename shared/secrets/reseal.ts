// Re-sealing stored documents under the current key (key rotation): every string held in a field
// whose name ends in `Sealed` — task specs' ACL and Cloud API keys, metadata snapshots' passwords
// and role keys — is opened with whichever configured key sealed it and sealed again under the
// current one. The walk is by field name so a sealed field added later is covered without a list.
import type { KeyringCipher } from './cipher.ts';

const SEALED_FIELD = /Sealed$/;

/** The document with every out-of-date sealed value re-sealed, or undefined when none needed it. */
export function resealDocument(doc: unknown, cipher: KeyringCipher): unknown {
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (SEALED_FIELD.test(k) && typeof x === 'string' && cipher.needsReseal(x)) {
        out[k] = cipher.encrypt(cipher.decrypt(x));
        changed = true;
      } else {
        out[k] = walk(x);
      }
    }
    return out;
  };
  const next = walk(doc);
  return changed ? next : undefined;
}

/** Every sealed value in a document (for checks and reports). */
export function sealedValues(doc: unknown): string[] {
  if (Array.isArray(doc)) return doc.flatMap(sealedValues);
  if (typeof doc !== 'object' || doc === null) return [];
  return Object.entries(doc).flatMap(([k, x]) => (SEALED_FIELD.test(k) && typeof x === 'string' ? [x] : sealedValues(x)));
}
