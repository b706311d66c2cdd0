/** Every bad option of rateLimit() is a ConfigError at construction, naming the field (one test per option). */
import { describe, expect, it } from 'vitest';
import { configErrorField } from '../support/config-error.js';
import { ConfigError, composite, concurrency, createGuard, memoryStore, tokenBucket, type RateLimitOptions } from '../../src/index.js';

const limiter = tokenBucket({ rate: 1, store: memoryStore({ sweepInterval: 0 }) });
const build = (options: Record<string, unknown>) => () => createGuard({ limiter, ...options } as RateLimitOptions);

function rejects(options: Record<string, unknown>, field: string | RegExp): void {
  const received = configErrorField(build(options));
  if (typeof field === 'string') expect(received).toBe(field);
  else expect(received).toMatch(field);
}

describe('rateLimit options', () => {
  it('accepts a valid full set', () => {
    expect(
      build({
        key: ['ip', { header: 'x-api-key' }, () => 'k'],
        cost: 2,
        skip: () => false,
        allowlist: ['127.0.0.1', '10.0.0.0/8', 'vip'],
        include: ['/api/*', /^\/v2\//],
        exclude: '/api/health',
        headers: 'draft-7',
        failMode: 'closed',
        timeout: '250ms',
        onError: () => undefined,
        message: { error: 'slow down' },
        onLimited: () => undefined,
        shadow: true,
        skipSuccessfulRequests: false,
        skipFailedRequests: true,
        blockFor: { duration: '1m', growth: 2, max: '1h', forgetAfter: '1d' },
        onNearLimit: () => undefined,
        nearLimitThreshold: 0.9,
        onExceeded: () => undefined,
        scope: 'login',
        warn: () => undefined,
      }),
    ).not.toThrow();
  });

  it('options must be an object', () => expect(() => createGuard(undefined as never)).toThrow(ConfigError));
  it('unknown option names are rejected', () => rejects({ limitter: limiter }, 'rateLimit.limitter'));
  it('limiter is required', () => expect(() => createGuard({} as never)).toThrow(/limiter/));
  it('limiter must be a limiter', () => rejects({ limiter: { decide: 1 } }, 'limiter'));
  it('limiter arrays must not be empty', () => rejects({ limiter: [] }, 'limiter'));
  it('concurrency must not hide inside a composite', () => {
    const store = memoryStore({ sweepInterval: 0 });
    const mixed = composite(tokenBucket({ rate: 5, store }), concurrency({ max: 2, store }));
    rejects({ limiter: mixed }, 'limiter');
    expect(build({ limiter: [tokenBucket({ rate: 5, store }), concurrency({ max: 2, store })] })).not.toThrow();
  });
  it('key must be a known source', () => rejects({ key: 42 }, 'key'));
  it('key { header } needs a name', () => rejects({ key: { header: '' } }, 'key'));
  it('key arrays must not be empty', () => rejects({ key: [] }, 'key'));
  it('key array items are checked', () => rejects({ key: ['ip', { cookie: 'sid' }] }, 'key[1]'));
  it('cost must be a number >= 0 or a function', () => rejects({ cost: -1 }, 'cost'));
  it('skip must be a function', () => rejects({ skip: true }, 'skip'));
  it('allowlist must be an array', () => rejects({ allowlist: '127.0.0.1' }, 'allowlist'));
  it('allowlist entries must be non-empty strings', () => rejects({ allowlist: ['ok', ''] }, 'allowlist[1]'));
  it('include must hold patterns', () => rejects({ include: [42] }, 'include[0]'));
  it('include must not be empty', () => rejects({ include: [] }, 'include'));
  it('exclude must hold patterns', () => rejects({ exclude: {} }, 'exclude'));
  it('headers must be a known mode', () => rejects({ headers: 'draft-5' }, 'headers'));
  it('failMode must be open or closed', () => rejects({ failMode: 'ajar' }, 'failMode'));
  it('timeout must be a duration', () => rejects({ timeout: 'soon' }, 'timeout'));
  it('onError must be a function', () => rejects({ onError: 'log' }, 'onError'));
  it('message must be a string, object or function', () => rejects({ message: 429 }, 'message'));
  it('message must not be null', () => rejects({ message: null }, 'message'));
  it('onLimited must be a function', () => rejects({ onLimited: {} }, 'onLimited'));
  it('shadow must be a boolean', () => rejects({ shadow: 'yes' }, 'shadow'));
  it('skipSuccessfulRequests must be a boolean', () => rejects({ skipSuccessfulRequests: 1 }, 'skipSuccessfulRequests'));
  it('skipFailedRequests must be a boolean', () => rejects({ skipFailedRequests: 1 }, 'skipFailedRequests'));
  it('blockFor must be a duration', () => rejects({ blockFor: 'forever' }, 'blockFor'));
  it('blockFor.duration must be a duration', () => rejects({ blockFor: { duration: 0 } }, 'blockFor.duration'));
  it('blockFor.growth must be >= 1', () => rejects({ blockFor: { duration: '1m', growth: 0.5 } }, 'blockFor.growth'));
  it('blockFor.max must not be below duration', () => rejects({ blockFor: { duration: '1h', max: '1m' } }, 'blockFor.max'));
  it('blockFor.forgetAfter must be a duration', () => rejects({ blockFor: { duration: '1m', forgetAfter: -1 } }, 'blockFor.forgetAfter'));
  it('blockFor options are checked by name', () => rejects({ blockFor: { duration: '1m', grow: 2 } }, 'blockFor.grow'));
  it('onNearLimit must be a function', () => rejects({ onNearLimit: 0.8 }, 'onNearLimit'));
  it('nearLimitThreshold must be within (0, 1]', () => rejects({ nearLimitThreshold: 1.5 }, 'nearLimitThreshold'));
  it('onExceeded must be a function', () => rejects({ onExceeded: [] }, 'onExceeded'));
  it('scope must be a non-empty string', () => rejects({ scope: '' }, 'scope'));
  it('clock must be a Clock', () => rejects({ clock: Date }, 'clock'));
  it('warn must be a function', () => rejects({ warn: 'console' }, 'warn'));
});

describe('rateLimit client IP options (validated by the client IP resolver)', () => {
  it('trustProxy must be a known form', () => rejects({ trustProxy: 'everyone' }, /^trustProxy/));
  it('ipv6Subnet must be a prefix length or false', () => rejects({ ipv6Subnet: 200 }, /^ipv6Subnet/));
  it('clientIpHeader must name a header', () => rejects({ clientIpHeader: 42, trustProxy: 'loopback' }, /^clientIpHeader/));
});
