import { pauseSafeLag } from './overload-protection';

describe('pauseSafeLag', () => {
  it('should ignore one huge sample when the ticks around it are punctual', () => {
    // A 12 s SIGSTOP: one tick 12 s late, the next on time.
    expect(pauseSafeLag([0, 0, 12_000])).toBe(0);
    expect(pauseSafeLag([0, 12_000, 1])).toBe(1);
  });

  it('should follow the loop when every tick is late', () => {
    expect(pauseSafeLag([1_500, 1_400, 1_600])).toBe(1_500);
    // Saturation sets in: two late ticks out of three are enough.
    expect(pauseSafeLag([2, 1_200, 1_300])).toBe(1_200);
  });

  it('should read 0 when there are no samples', () => {
    expect(pauseSafeLag([])).toBe(0);
  });
});
