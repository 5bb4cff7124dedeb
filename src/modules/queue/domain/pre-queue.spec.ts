import { preQueueSortKey } from './pre-queue';

/** Orders members the way the pre-queue's sorted set does: by key, ties by member. */
function preQueueOrder(members: string[]): string[] {
  return members
    .map((member) => ({ member, key: preQueueSortKey() }))
    .sort((a, b) => a.key - b.key || (a.member < b.member ? -1 : 1))
    .map(({ member }) => member);
}

describe('preQueueSortKey', () => {
  it('should give every order of a pre-queue the same chance (chi-square, 5 members)', () => {
    const members = ['a', 'b', 'c', 'd', 'e'];
    const trials = 120_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < trials; i++) {
      const order = preQueueOrder(members).join('');
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    expect(counts.size).toBe(120); // 5! orders, every one reached
    const expected = trials / 120;
    const chiSquare = [...counts.values()].reduce(
      (sum, seen) => sum + (seen - expected) ** 2 / expected,
      0,
    );
    // 119 degrees of freedom: P(χ² > 175) ≈ 0.0006 for a uniform shuffle; a biased one (say, one
    // order 20% more likely) lands far above.
    expect(chiSquare).toBeLessThan(175);
  });

  it('should put each member in each place equally often', () => {
    const members = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const trials = 50_000;
    const placeCounts = members.map(() => new Array<number>(members.length).fill(0));
    for (let i = 0; i < trials; i++) {
      preQueueOrder(members).forEach(
        (member, place) => placeCounts[Number(member.slice(1))][place]++,
      );
    }
    // Each cell expects 5,000; the binomial's standard deviation is about 67, so ±6σ.
    for (const row of placeCounts) {
      for (const count of row) expect(Math.abs(count - trials / 10)).toBeLessThan(400);
    }
  });

  it('should draw integers a Redis score holds exactly', () => {
    for (let i = 0; i < 1000; i++) {
      const key = preQueueSortKey();
      expect(Number.isSafeInteger(key)).toBe(true);
      expect(key).toBeGreaterThanOrEqual(0);
    }
  });
});
