import { BatchedLookup } from './batched-lookup';

describe('BatchedLookup', () => {
  it('should answer lookups made in the same turn with one load', async () => {
    const loads: string[][] = [];
    const lookup = new BatchedLookup<string>((keys) => {
      loads.push(keys);
      return Promise.resolve(new Set(keys.filter((key) => key !== 'ghost')));
    });

    const answers = await Promise.all(['a', 'b', 'ghost', 'a'].map((key) => lookup.has(key)));

    expect(answers).toEqual([true, true, false, true]);
    expect(loads).toEqual([['a', 'b', 'ghost']]);
  });

  it('should split a burst into batches of at most maxBatch keys', async () => {
    const sizes: number[] = [];
    const lookup = new BatchedLookup<number>((keys) => {
      sizes.push(keys.length);
      return Promise.resolve(new Set(keys));
    }, 100);

    const answers = await Promise.all(Array.from({ length: 250 }, (_, i) => lookup.has(i)));

    expect(answers.every(Boolean)).toBe(true);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('should fail every waiter of a batch whose load fails, and recover for the next', async () => {
    let fail = true;
    const lookup = new BatchedLookup<string>((keys) =>
      fail ? Promise.reject(new Error('db down')) : Promise.resolve(new Set(keys)),
    );

    const failed = await Promise.allSettled([lookup.has('a'), lookup.has('b')]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(lookup.has('a')).resolves.toBe(true);
  });

  it('should make a fresh query for a later turn (no caching)', async () => {
    let calls = 0;
    const lookup = new BatchedLookup<string>((keys) => {
      calls++;
      return Promise.resolve(new Set(keys));
    });
    await lookup.has('a');
    await lookup.has('a');
    expect(calls).toBe(2);
  });
});
