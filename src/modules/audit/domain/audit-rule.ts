/**
 * The booking invariants the audit checks, by stable name: names appear in GET /admin/audit, in
 * the metric label `rule` and in alerts, so a name is never reused for a different rule.
 * docs/audit.md describes each one and the id its examples carry.
 */
export const AUDIT_RULES = [
  'sold_seat_without_one_paid_reservation',
  'seat_with_two_live_reservations',
  'wallet_balance_differs_from_history',
  'payment_amount_differs_from_reservations',
  'seat_held_past_hold_end',
] as const;

export type AuditRule = (typeof AUDIT_RULES)[number];

/** What each rule demands, and which id an offender's example is. */
export const AUDIT_RULE_DESCRIPTIONS: Record<AuditRule, string> = {
  sold_seat_without_one_paid_reservation:
    'Every SOLD seat has exactly one CONFIRMED reservation, and it belongs to a COMPLETED payment. Examples: seat ids.',
  seat_with_two_live_reservations:
    'No seat has two live reservations (HELD and unexpired, or CONFIRMED). Examples: seat ids.',
  wallet_balance_differs_from_history:
    'Every wallet balance equals the sum of its cash history amounts. Examples: user ids.',
  payment_amount_differs_from_reservations:
    "Every payment's amount equals the sum of its reservations' prices (COMPLETED and REFUNDED alike). Examples: payment ids.",
  seat_held_past_hold_end:
    'No seat reads HELD more than 10 s after its hold ended. Examples: seat ids.',
};

/**
 * How long a seat may still read HELD after its hold ended: the release job runs every second and
 * the contract promises the seat back within 5 s, so past 10 s the job is not doing its work.
 */
export const HELD_SEAT_GRACE_SECONDS = 10;

/** Offending ids listed per rule; the count always covers all of them. */
export const AUDIT_EXAMPLES_PER_RULE = 5;

/** An offending row: a seat or payment id, or a user id for a wallet. */
export type OffenderId = number | string;

/** One rule's outcome over the snapshot; count 0 means the rule holds. */
export interface RuleFinding {
  rule: AuditRule;
  count: number;
  /** At most AUDIT_EXAMPLES_PER_RULE offenders, lowest ids first. */
  examples: OffenderId[];
}
