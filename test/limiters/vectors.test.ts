import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { limiterFactories, loadVectors, replayVector } from '../support/vectors.js';

const vectors = loadVectors();

describe('shared test vectors on the memory store', () => {
  it('has at least one vector for every limiter it knows', () => {
    const covered = new Set(vectors.map((vector) => vector.limiter));
    for (const name of Object.keys(limiterFactories)) expect(covered, name).toContain(name);
  });

  it('vector names are unique', () => {
    const names = vectors.map((vector) => vector.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(vectors.map((vector) => [vector.name, vector] as const))('%s', async (_name, vector) => {
    const replayed = await replayVector(vector, { store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock() });
    expect(replayed).toHaveLength(vector.steps.length);
  });

  it('a wrong expectation fails the replay, naming the step', async () => {
    const vector = structuredClone(vectors.find((v) => v.name === 'fixed-window')!);
    vector.steps[0]!.expect = { allowed: false };
    await expect(replayVector(vector, { store: memoryStore({ sweepInterval: 0 }), clock: new FakeClock() })).rejects.toThrow(
      /step 0 .*allowed expected false, got true/,
    );
  });
});
