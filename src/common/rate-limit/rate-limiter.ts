import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import type { RedisClient } from '../redis/redis-client';
import { createHash } from 'node:crypto';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-codes';

/**
 * A fixed window per key, counted in Redis so every instance shares it: INCR, and the window's
 * TTL is set by the hit that opens it, in one script so a crash between the two cannot leave a
 * counter that never expires. Replies {count, ms left in the window}.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

const PEEK = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
return {count, ttl}
`;

export interface RateWindow {
  /** Name of the limit; part of the Redis key, so each limit counts separately. */
  name: string;
  limit: number;
  windowSeconds: number;
}

type ScriptReply = [number, number];
type WindowScript = (key: string, windowMs?: number) => Promise<ScriptReply>;

@Injectable()
export class RateLimiter {
  constructor(@Inject(Redis) private readonly redis: RedisClient) {
    if (!('rateLimitHit' in redis))
      redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT });
    if (!('rateLimitPeek' in redis)) {
      redis.defineCommand('rateLimitPeek', { numberOfKeys: 1, lua: PEEK });
    }
  }

  /** Counts one event against `subject`; past the limit → 429 RATE_LIMITED with Retry-After. */
  async consume(window: RateWindow, subject: string): Promise<void> {
    const [count, ttlMs] = await this.script('rateLimitHit')(
      key(window, subject),
      window.windowSeconds * 1000,
    );
    if (count > window.limit) throw rateLimited(ttlMs);
  }

  /** Refuses (429) when `subject` has already used up its window, without counting. */
  async assertNotExhausted(window: RateWindow, subject: string): Promise<void> {
    const [count, ttlMs] = await this.script('rateLimitPeek')(key(window, subject));
    if (count >= window.limit) throw rateLimited(ttlMs);
  }

  /** Counts one event without refusing: for failures, checked by the next attempt. */
  async record(window: RateWindow, subject: string): Promise<void> {
    await this.script('rateLimitHit')(key(window, subject), window.windowSeconds * 1000);
  }

  async reset(window: RateWindow, subject: string): Promise<void> {
    await this.redis.del(key(window, subject));
  }

  private script(name: 'rateLimitHit' | 'rateLimitPeek'): WindowScript {
    const command = (this.redis as unknown as Record<typeof name, WindowScript>)[name];
    return command.bind(this.redis);
  }
}

function key(window: RateWindow, subject: string): string {
  // Subjects are emails and addresses: hashed, so Redis holds no personal data and every key has
  // the same short length whatever the client sent.
  const digest = createHash('sha256').update(subject).digest('base64url').slice(0, 22);
  return `ratelimit:${window.name}:${digest}`;
}

function rateLimited(ttlMs: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new DomainError(
    ErrorCode.RATE_LIMITED,
    `Too many requests; retry after ${retryAfterSeconds} s.`,
    undefined,
    retryAfterSeconds,
  );
}
