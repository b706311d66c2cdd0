/**
 * The neutral request and response shapes between the HTTP layer and the framework adapters. An adapter maps
 * its request to RequestFacts, calls the guard, and applies the ResponsePlan; nothing else.
 */

export interface RequestFacts {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The peer address as the socket reports it (may be IPv4-mapped IPv6, may carry a zone id). */
  socketAddress: string | undefined;
  /** A request header by lower-case name; repeated headers joined with ", " (as Node does for X-Forwarded-For). */
  header(name: string): string | undefined;
  /** The matched route pattern (e.g. "/users/:id") when the framework knows it. */
  routeId?: string;
  /** The client IP the framework itself computed (Express req.ip, Koa ctx.ip, ...), for trustProxy: 'framework'. */
  frameworkIp?: () => string | undefined;
}

export interface ResponsePlan {
  status: number;
  headers: Record<string, string>;
  /** The response body, already serialised; undefined for none. */
  body: string | undefined;
}

/** Trust settings for proxies in front of the app. See docs/proxies.md. */
export type TrustProxyOption =
  | boolean
  /** Trust this many hops nearest the server (the socket peer counts as the first). */
  | number
  /** A preset ('loopback', 'private', 'linklocal', 'uniquelocal'), an address or a CIDR. */
  | string
  | readonly string[]
  /** Decide per hop: `address` is normalised; `hop` is 0 for the socket peer, 1 for the next, ... */
  | ((address: string, hop: number) => boolean);

export interface ClientIpOptions {
  /** Default false: the socket address is the client and every forwarding header is ignored. */
  trustProxy?: TrustProxyOption | 'framework';
  /**
   * A single-value header set by a trusted edge (CF-Connecting-IP, True-Client-IP, Fly-Client-IP, X-Real-IP),
   * used only when the socket peer is trusted.
   */
  clientIpHeader?: string;
  /** IPv6 clients are keyed by this prefix length (default 56); false keys full addresses. */
  ipv6Subnet?: number | false;
  /** Receives the one-time warning about forwarding headers arriving while trustProxy is false. */
  warn?: (message: string) => void;
}

export interface ClientIpResolver {
  /** The client's address, normalised (IPv4-mapped IPv6 as IPv4, no zone id), or undefined when unknown. */
  address(facts: RequestFacts): string | undefined;
  /** The rate-limit key for the client: the address, or for IPv6 its /ipv6Subnet prefix as "2001:db8:1200::/56". */
  key(facts: RequestFacts): string;
}
