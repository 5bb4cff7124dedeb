import { DomainError } from '../../../common/errors/domain-error';
import { newQueueToken, parseQueueToken } from './queue-token';

describe('queue token', () => {
  it('should accept a token it issued, naming its room, and normalise upper case', () => {
    const token = newQueueToken(42);
    expect(token).toMatch(/^42\.[0-9a-f-]{36}$/);
    expect(parseQueueToken(token)).toEqual({ token, concertId: 42 });
    expect(parseQueueToken(token.toUpperCase())).toEqual({ token, concertId: 42 });
  });

  it.each([
    ['missing', undefined],
    ['repeated header', ['a', 'b']],
    ['empty', ''],
    ['too long', 'a'.repeat(10_000)],
    ['version 1 (bare uuid, no room)', '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11'],
    ['not a uuid', `1.${'x'.repeat(36)}`],
    ['uuid v1', '1.c232ab00-9414-11ec-b3c8-9f6bdeced846'],
    ['room 0', '0.3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11'],
    ['room with a leading zero', '01.3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11'],
    ['room past 32 bits', '2147483648.3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11'],
    ['negative room', '-1.3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11'],
    ['odd characters', '1.3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e1\n'],
    ['sql-looking', "1.' OR 1=1 --                         "],
  ])('should reject a %s header with QUEUE_TOKEN_INVALID', (_case, raw) => {
    expect(() => parseQueueToken(raw)).toThrow(DomainError);
    try {
      parseQueueToken(raw);
    } catch (error) {
      expect((error as DomainError).code).toBe('QUEUE_TOKEN_INVALID');
    }
  });
});
