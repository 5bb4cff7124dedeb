import { DomainError } from '../../../common/errors/domain-error';
import { newQueueToken, parseQueueToken } from './queue-token';

describe('queue token', () => {
  it('should accept a token it issued and normalise upper case', () => {
    const token = newQueueToken();
    expect(parseQueueToken(token)).toBe(token);
    expect(parseQueueToken(token.toUpperCase())).toBe(token);
  });

  it.each([
    ['missing', undefined],
    ['repeated header', ['a', 'b']],
    ['empty', ''],
    ['too long', 'a'.repeat(10_000)],
    ['not a uuid', 'x'.repeat(36)],
    ['uuid v1', 'c232ab00-9414-11ec-b3c8-9f6bdeced846'],
    ['odd characters', '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e1\n'],
    ['sql-looking', "' OR 1=1 --                         "],
  ])('should reject a %s header with QUEUE_TOKEN_INVALID', (_case, raw) => {
    expect(() => parseQueueToken(raw)).toThrow(DomainError);
    try {
      parseQueueToken(raw);
    } catch (error) {
      expect((error as DomainError).code).toBe('QUEUE_TOKEN_INVALID');
    }
  });
});
