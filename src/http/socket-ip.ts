/**
 * Interim client IP resolver: the socket address only (IPv4-mapped IPv6 unwrapped). Replaced by client-ip.ts.
 */
import type { ClientIpOptions, ClientIpResolver, RequestFacts } from './facts.js';

export function createClientIpResolver(_options: ClientIpOptions): ClientIpResolver {
  const address = (facts: RequestFacts) => {
    const socket = facts.socketAddress;
    return socket?.startsWith('::ffff:') && socket.includes('.') ? socket.slice(7) : socket;
  };
  return { address, key: (facts) => address(facts) ?? 'unknown' };
}
