/** Client keys shaped like the IPv4 addresses an HTTP limiter sees. */

/**
 * The i-th address of 10.0.0.0/8 as a flat string. Built with join, not concatenation: V8 keeps a concatenation of
 * 13 or more characters as a rope (a ConsString), which would make key memory depend on how the key was built.
 */
export function ipKey(i: number): string {
  return [10, (i >>> 16) & 255, (i >>> 8) & 255, i & 255].join('.');
}

export function ipKeys(count: number): string[] {
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) keys[i] = ipKey(i);
  return keys;
}
