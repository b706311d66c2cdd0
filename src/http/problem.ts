/**
 * Bodies of refusals: RFC 9457 problem details with the problem types of draft-ietf-httpapi-ratelimit-headers
 * (quota-exceeded for 429, temporary-reduced-capacity for 503), and the user's `message` override.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const QUOTA_EXCEEDED_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded';
export const REDUCED_CAPACITY_TYPE = 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Names of the policies whose quota was exceeded. */
  'violated-policies'?: string[];
  /** The same number of seconds as the Retry-After header. */
  'retry-after': number;
  [extension: string]: unknown;
}

const seconds = (n: number) => `${n} second${n === 1 ? '' : 's'}`;

export function quotaExceededProblem(violatedPolicies: string[], retryAfterSeconds: number, blocked = false): ProblemDetails {
  return {
    type: QUOTA_EXCEEDED_TYPE,
    title: 'Too Many Requests',
    status: 429,
    detail: blocked
      ? `Too many requests: blocked for ${seconds(retryAfterSeconds)}.`
      : `Rate limit exceeded: retry in ${seconds(retryAfterSeconds)}.`,
    'violated-policies': violatedPolicies,
    'retry-after': retryAfterSeconds,
  };
}

export function reducedCapacityProblem(retryAfterSeconds: number, detail: string): ProblemDetails {
  return {
    type: REDUCED_CAPACITY_TYPE,
    title: 'Service Unavailable',
    status: 503,
    detail,
    'retry-after': retryAfterSeconds,
  };
}

/** A response body and its media type: strings are sent as text, anything else as JSON. */
export function serialiseBody(value: unknown, jsonType = 'application/json'): { body: string; contentType: string } {
  if (typeof value === 'string') return { body: value, contentType: 'text/plain; charset=utf-8' };
  return { body: JSON.stringify(value) ?? 'null', contentType: `${jsonType}; charset=utf-8` };
}
