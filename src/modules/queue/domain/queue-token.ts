import { randomUUID } from 'node:crypto';
import { queueTokenInvalid } from './queue.errors';

/**
 * Tokens read `<concertId>.<UUID v4>`: the room is in the token, so a poll goes straight to that
 * room's keys (one slot on a Redis Cluster) without a lookup first. The UUID's 122 random bits
 * make it unguessable; editing the concert part yields a token no room knows.
 */
const TOKEN_PATTERN =
  /^([1-9][0-9]{0,9})\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MAX_TOKEN_LENGTH = 10 + 1 + 36;
const MAX_CONCERT_ID = 2_147_483_647;

export interface ParsedQueueToken {
  token: string;
  concertId: number;
}

/** A fresh opaque token of `concertId`'s room; knowing a user's id never yields their token. */
export function newQueueToken(concertId: number): string {
  return `${concertId}.${randomUUID()}`;
}

/**
 * Reads a `Queue-Token` header value. Anything that cannot be a token we issued (missing,
 * repeated, too long, odd characters) is rejected here, before Redis is asked, so junk headers
 * cost nothing but a length check and one anchored regex. Version 1 tokens (a bare UUID) name
 * no room and are rejected like any unknown token.
 */
export function parseQueueToken(raw: unknown): ParsedQueueToken {
  if (typeof raw !== 'string' || raw.length > MAX_TOKEN_LENGTH) throw queueTokenInvalid();
  const token = raw.toLowerCase();
  const match = TOKEN_PATTERN.exec(token);
  const concertId = match ? Number(match[1]) : 0;
  if (!match || concertId > MAX_CONCERT_ID) throw queueTokenInvalid();
  return { token, concertId };
}
