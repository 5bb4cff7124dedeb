import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import type { RedisClient } from '../redis/redis-client';
import { randomUUID } from 'node:crypto';
import { runDetached } from '../deadline/deadline';
import { IDEMPOTENCY_MARKER_TTL_MS } from './idempotency.constants';

// Deletes the marker only if it is still ours: after a TTL expiry someone else may own it.
const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export type MarkerClaim =
  | { state: 'acquired'; owner: string }
  | { state: 'taken' }
  /** Redis did not answer; the caller goes on with the database as the only fence. */
  | { state: 'unavailable' };

/**
 * The short-lived "this key is being processed" marker in Redis (SET NX PX). It turns a
 * concurrent duplicate into a fast 409 instead of a wait on MySQL's row lock, and its TTL frees
 * the key if the instance holding it dies.
 */
@Injectable()
export class IdempotencyMarker {
  private readonly logger = new Logger(IdempotencyMarker.name);

  constructor(@Inject(Redis) private readonly redis: RedisClient) {}

  async acquire(markerKey: string): Promise<MarkerClaim> {
    const owner = randomUUID();
    try {
      const set = await this.redis.set(markerKey, owner, 'PX', IDEMPOTENCY_MARKER_TTL_MS, 'NX');
      return set === 'OK' ? { state: 'acquired', owner } : { state: 'taken' };
    } catch (error) {
      this.logger.warn(`Idempotency marker unavailable, relying on the database: ${String(error)}`);
      return { state: 'unavailable' };
    }
  }

  async release(markerKey: string, claim: MarkerClaim): Promise<void> {
    if (claim.state !== 'acquired') return;
    try {
      // Also once the request's deadline has passed (ADR 0013): it only deletes our own claim,
      // so it is harmless late, and it spares the client's retry a 409 until the TTL.
      await runDetached(() => this.redis.eval(RELEASE_IF_OWNER, 1, markerKey, claim.owner));
    } catch (error) {
      // The TTL removes it shortly; until then a retry of this key gets 409 and retries again.
      this.logger.warn(`Could not release idempotency marker: ${String(error)}`);
    }
  }
}
