/**
 * Relay partitions: subjects hash into these, and each is relayed by one instance at a time.
 * The migration seeds exactly this many rows in `outbox_partitions`.
 */
export const OUTBOX_PARTITIONS = 16;

/**
 * Partitions one relay round claims. Fewer than all, so several instances share a backlog; the
 * claimed set is drawn at random among the pending ones, so no partition starves.
 */
export const RELAY_PARTITIONS_PER_CLAIM = 4;
/** Events per partition per round: one round is one publish burst and one confirm wait. */
export const RELAY_EVENTS_PER_PARTITION = 250;
/** Pause between rounds that found nothing to send (an idle relay costs one query per pause). */
export const RELAY_IDLE_POLL_MS = 200;
/**
 * Longest wait for the broker's confirms of one round. Bounds how long the round's partition
 * locks (and its database connection) are held when the broker stalls.
 */
export const RELAY_CONFIRM_TIMEOUT_MS = 10_000;
export const RELAY_CONNECT_TIMEOUT_MS = 5_000;

/** Exponential backoff while the broker (or the database) fails: 250 ms doubling up to 5 s. */
export const RELAY_BACKOFF_BASE_MS = 250;
export const RELAY_BACKOFF_MAX_MS = 5_000;

export const OUTBOX_PURGE_INTERVAL_MS = 15 * 60_000;
export const OUTBOX_PURGE_BATCH = 1_000;
/**
 * A purge run stops after this many batches (a million rows) or this long, whichever comes first;
 * a backlog larger than that is finished by the next runs instead of one run without end.
 */
export const OUTBOX_PURGE_MAX_BATCHES = 1_000;
export const OUTBOX_PURGE_RUN_DEADLINE_MS = 5 * 60_000;

/**
 * The delay before retry number `failures` (1-based): doubling from the base, capped, with "equal
 * jitter" (half fixed, half random) so instances that lost the broker together do not reconnect
 * in lockstep.
 */
export function relayBackoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(
    RELAY_BACKOFF_MAX_MS,
    RELAY_BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1),
  );
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The broker URL as logs may show it: the password is never printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable AMQP URL>';
  }
}
