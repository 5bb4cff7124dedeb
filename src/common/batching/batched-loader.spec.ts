import { BatchedLoader } from './batched-loader';

describe('BatchedLoader', () => {
  it('should answer lookups made in the same turn with one load', async () => {
    const loads: string[][] = [];
    const loader = new BatchedLoader<string, string>((keys) => {
      loads.push(keys);
      const found = keys.filter((key) => key !== 'ghost');
      return Promise.resolve(new Map(found.map((key) => [key, key.toUpperCase()])));
    });

    const answers = await Promise.all(['a', 'b', 'ghost', 'a'].map((key) => loader.load(key)));

    expect(answers).toEqual(['A', 'B', undefined, 'A']);
    expect(loads).toEqual([['a', 'b', 'ghost']]);
  });

  it('should split a burst into batches of at most maxBatch keys', async () => {
    const sizes: number[] = [];
    const loader = new BatchedLoader<number, number>((keys) => {
      sizes.push(keys.length);
      return Promise.resolve(new Map(keys.map((key) => [key, key * 2])));
    }, 100);

    const answers = await Promise.all(Array.from({ length: 250 }, (_, i) => loader.load(i)));

    expect(answers).toEqual(Array.from({ length: 250 }, (_, i) => i * 2));
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('should fail every waiter of a batch whose load fails, and recover for the next', async () => {
    let fail = true;
    const loader = new BatchedLoader<string, boolean>((keys) =>
      fail
        ? Promise.reject(new Error('db down'))
        : Promise.resolve(new Map(keys.map((key) => [key, true]))),
    );

    const failed = await Promise.allSettled([loader.load('a'), loader.load('b')]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(loader.load('a')).resolves.toBe(true);
  });

  it('should make a fresh query for a later turn (no caching)', async () => {
    let calls = 0;
    const loader = new BatchedLoader<string, boolean>((keys) => {
      calls++;
      return Promise.resolve(new Map(keys.map((key) => [key, true])));
    });
    await loader.load('a');
    await loader.load('a');
    expect(calls).toBe(2);
  });
});
