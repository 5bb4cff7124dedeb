import { randomInt } from 'node:crypto';

// crypto.randomInt's range limit; far below 2^53, so Redis keeps every key exactly as a score.
const SORT_KEY_RANGE = 2 ** 48 - 1;

/**
 * The sort key of a join into a RANDOM_AT_START room before its start. The pre-queue is a sorted
 * set ordered by these keys, and at the start it is taken in that order: sorting independent,
 * uniformly drawn keys puts every possible order equally likely (the same distribution as a
 * Fisher–Yates shuffle), with no O(n) step at the start instant. Ties (about n²/2^49) fall back
 * to ordering by token, which is itself random. Drawn from the OS CSPRNG, so nobody can predict
 * or steer a key; and since positions stay hidden until the start, re-joining cannot be used to
 * re-roll for a better one.
 */
export function preQueueSortKey(): number {
  return randomInt(0, SORT_KEY_RANGE);
}
