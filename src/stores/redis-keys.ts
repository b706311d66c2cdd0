/**
 * Redis key layout of limiter state: `${storePrefix}${policy.id}:{${tag}}`, where policy.id is
 * `prefix:algorithm:name` and the hash tag is the user key, so every policy of one user key lives in one Cluster slot
 * (a composite decides them in one script). A user key longer than 256 bytes, containing "}" (which would end the
 * tag early), empty (an empty tag hashes the whole key) or starting with "sha256:" is replaced by "sha256:" + its SHA-256 in base64url (43 characters).
 */
import { createHash } from 'node:crypto';

export const HASHED_KEY_PREFIX = 'sha256:';
export const MAX_RAW_KEY_BYTES = 256;
/** A string of at most this many UTF-16 units is at most 256 bytes in UTF-8 (3 bytes per unit at most). */
const SURELY_SHORT_UNITS = Math.floor(MAX_RAW_KEY_BYTES / 3);

/** The hash tag for a user key: the key itself, or its digest when it is long or would break the tag. */
export function keyTag(userKey: string): string {
  const needsDigest =
    userKey.length === 0 ||
    userKey.includes('}') ||
    userKey.startsWith(HASHED_KEY_PREFIX) ||
    (userKey.length > SURELY_SHORT_UNITS && Buffer.byteLength(userKey, 'utf8') > MAX_RAW_KEY_BYTES);
  return needsDigest ? HASHED_KEY_PREFIX + createHash('sha256').update(userKey, 'utf8').digest('base64url') : userKey;
}

/** Policy ids come from user-chosen names and prefixes: braces in them would move the hash tag, so escape them. */
export function escapeBraces(text: string): string {
  return /[{}%]/.test(text) ? text.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : text;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** The Redis Cluster slot of a key whose hash tag is `tag` (CRC16-XMODEM of the tag's UTF-8 bytes, mod 16384). */
export function slotOfTag(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc & 16383;
}
