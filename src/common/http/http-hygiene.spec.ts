import { jsonDepthExceeds } from './http-hygiene';

describe('jsonDepthExceeds', () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it('should allow exactly the limit and refuse one level more', () => {
    expect(jsonDepthExceeds(nested(32), 32)).toBe(false);
    expect(jsonDepthExceeds(nested(33), 32)).toBe(true);
    expect(jsonDepthExceeds(`{"a":${nested(31)}}`, 32)).toBe(false);
    expect(jsonDepthExceeds(`{"a":${nested(32)}}`, 32)).toBe(true);
  });

  it('should not count brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(JSON.stringify({ a: '['.repeat(500) }), 2)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ a: 'say \\"[[[[\\"' }), 1)).toBe(false);
  });

  it('should count siblings by depth, not by number', () => {
    expect(jsonDepthExceeds(JSON.stringify(Array.from({ length: 1000 }, () => [1])), 2)).toBe(
      false,
    );
  });

  it('should scan 2,400 levels without recursing', () => {
    expect(jsonDepthExceeds(nested(2400), 32)).toBe(true);
  });
});
