// Ferry's own message properties are believed only when signed: any producer can set a property
// named FERRY_PATH or FERRY_SRC_OFFSET, and believing one drops messages as loops or makes a resume
// skip them. One property, FERRY_SIG, holds an HMAC-SHA256 (truncated to 128 bits) over the
// canonical set of Ferry's properties and the topic, keyed per task: the key is derived from the
// deployment key (no secret of its own) with the tenant and task id, so no tenant can sign for
// another, and both flows of a two-way task verify each other. The signer's task id travels in the
// value, so a replica written by another task of the same tenant (a chain or a mesh) verifies too.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_PROPERTY = 'FERRY_SIG';
const VERSION = '1';
const MAC_BYTES = 16;
/** Keys derived per signer task id, kept for reuse; a forged value naming random ids cannot grow it unbounded. */
const KEY_CACHE_MAX = 256;

/** What the signer needs of the deployment's cipher (shared/secrets/cipher.ts). */
export interface KeyDeriver {
  deriveKeys(info: string): readonly Buffer[];
}

export interface SignedMessage {
  topic: string;
  properties: Readonly<Record<string, string>>;
}

export class PropertySigner {
  private readonly keys = new Map<string, readonly Buffer[]>();

  /**
   * @param fields the property names the signature covers (Ferry's own, in a fixed order)
   */
  constructor(
    private readonly deriver: KeyDeriver,
    private readonly tenant: string,
    readonly taskId: string,
    private readonly fields: readonly string[],
  ) {}

  /** The FERRY_SIG value for these properties of a message in `topic`, signed as this task. */
  sign(topic: string, properties: Readonly<Record<string, string>>): string {
    const [key] = this.keysOf(this.taskId);
    return `${VERSION}.${this.taskId}.${this.mac(key!, this.taskId, topic, properties).toString('base64url')}`;
  }

  /**
   * The id of the task (of this tenant) that signed m's Ferry properties as they are now, or
   * undefined when unsigned, badly signed, or signed for another tenant or topic.
   */
  signerOf(m: SignedMessage): string | undefined {
    const value = m.properties[SIGNATURE_PROPERTY];
    if (!value || value.length > 256) return undefined;
    const first = value.indexOf('.');
    const last = value.lastIndexOf('.');
    if (first <= 0 || last <= first + 1 || value.slice(0, first) !== VERSION) return undefined;
    const taskId = value.slice(first + 1, last);
    const given = Buffer.from(value.slice(last + 1), 'base64url');
    if (given.length !== MAC_BYTES) return undefined;
    for (const key of this.keysOf(taskId)) {
      if (timingSafeEqual(given, this.mac(key, taskId, m.topic, m.properties))) return taskId;
    }
    return undefined;
  }

  /** True when this very task signed m's Ferry properties (what idempotent resume requires). */
  signedBySelf(m: SignedMessage): boolean {
    return this.signerOf(m) === this.taskId;
  }

  private mac(key: Buffer, taskId: string, topic: string, properties: Readonly<Record<string, string>>): Buffer {
    // JSON of a fixed-order array: unambiguous whatever the values hold; an absent field is null.
    const canonical = JSON.stringify([VERSION, taskId, topic, ...this.fields.map((f) => properties[f] ?? null)]);
    return createHmac('sha256', key).update(canonical).digest().subarray(0, MAC_BYTES);
  }

  private keysOf(taskId: string): readonly Buffer[] {
    let keys = this.keys.get(taskId);
    if (!keys) {
      if (this.keys.size >= KEY_CACHE_MAX) this.keys.clear();
      keys = this.deriver.deriveKeys(`ferry/message-properties\u0000${this.tenant}\u0000${taskId}`);
      this.keys.set(taskId, keys);
    }
    return keys;
  }
}
