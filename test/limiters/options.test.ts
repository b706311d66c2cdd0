/** Every option of every rate-limiting constructor: each bad value throws ConfigError naming the field. */
import { describe, expect, it } from 'vitest';
import { ConfigError, fixedWindow, gcra, leakyBucket, memoryStore, slidingWindow, tokenBucket } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';

type Kind = 'positive' | 'integer' | 'duration' | 'enum';

interface ConstructorSpec {
  component: string;
  make: (options: any) => unknown;
  valid: Record<string, unknown>;
  fields: Record<string, Kind>;
  required: string[];
}

const specs: ConstructorSpec[] = [
  {
    component: 'tokenBucket',
    make: tokenBucket,
    valid: { rate: 5, per: '1s', burst: 10 },
    fields: { rate: 'positive', per: 'duration', burst: 'positive' },
    required: ['rate'],
  },
  {
    component: 'fixedWindow',
    make: fixedWindow,
    valid: { limit: 5, window: '1m' },
    fields: { limit: 'integer', window: 'duration' },
    required: ['limit', 'window'],
  },
  {
    component: 'slidingWindow',
    make: slidingWindow,
    valid: { limit: 5, window: '1m', precision: 'exact' },
    fields: { limit: 'integer', window: 'duration', precision: 'enum' },
    required: ['limit', 'window'],
  },
  {
    component: 'gcra',
    make: gcra,
    valid: { rate: 5, per: '1s', burst: 10 },
    fields: { rate: 'positive', per: 'duration', burst: 'positive' },
    required: ['rate'],
  },
  {
    component: 'leakyBucket',
    make: leakyBucket,
    valid: { rate: 5, per: '1s', capacity: 10, mode: 'shape' },
    fields: { rate: 'positive', per: 'duration', capacity: 'positive', mode: 'enum' },
    required: ['rate'],
  },
];

const badValues: Record<Kind, unknown[]> = {
  positive: [-1, 0, -0.5, Number.NaN, Infinity, -Infinity, '5', true, {}, [], null],
  integer: [-1, 0, 1.5, Number.NaN, Infinity, '5', true, {}, null],
  duration: [-1, 0, Number.NaN, Infinity, '0s', '-1s', '10', '1 fortnight', 'fast', '', true, {}, null],
  enum: ['fast', '', 'EXACT', 1, true, {}, null],
};

const commonBadValues: Record<string, unknown[]> = {
  store: [5, 'memory', {}, null],
  name: ['', 5, {}],
  prefix: ['', 5, {}],
  clock: [5, {}, { now: () => 0 }, null],
  failMode: ['sometimes', '', true, 1, null],
};

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe.each(specs)('$component options', ({ component, make, valid, fields, required }) => {
  const common = { store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock() };

  it('accepts the valid options and every common option', () => {
    expect(() => make({ ...valid, ...common, name: 'n', prefix: 'p', failMode: 'closed' })).not.toThrow();
  });

  for (const [field, kind] of Object.entries(fields)) {
    const values = badValues[kind];
    it.each(values.map((value) => [String(typeof value === 'object' ? JSON.stringify(value) : value), value]))(
      `${field} = %s throws ConfigError naming "${field}"`,
      (_label, value) => {
        const error = configErrorOf(() => make({ ...valid, ...common, [field]: value }));
        expect(error.field).toBe(field);
        expect(Object.is(error.received, value)).toBe(true);
        expect(error.message).toContain(field);
      },
    );
  }

  for (const [field, values] of Object.entries(commonBadValues)) {
    it.each(values.map((value) => [typeof value === 'object' ? JSON.stringify(value) : String(value), value]))(
      `${field} = %s throws ConfigError naming "${field}"`,
      (_label, value) => {
        expect(configErrorOf(() => make({ ...valid, ...common, [field]: value })).field).toBe(field);
      },
    );
  }

  it.each(required)('a missing %s throws ConfigError naming it', (field) => {
    const { [field]: _omitted, ...rest } = valid;
    expect(configErrorOf(() => make({ ...rest, ...common })).field).toBe(field);
  });

  it('rejects unknown option names, such as a misspelling', () => {
    const misspelt = `${Object.keys(fields)[0]!.slice(0, -1)}x`;
    expect(configErrorOf(() => make({ ...valid, ...common, [misspelt]: 1 })).field).toBe(`${component}.${misspelt}`);
    expect(configErrorOf(() => make({ ...valid, ...common, maxKeys: 10 })).field).toBe(`${component}.maxKeys`);
  });

  it('rejects a missing options object, naming the first required option', () => {
    expect(configErrorOf(() => make(undefined)).field).toBe(required[0]);
  });
});
