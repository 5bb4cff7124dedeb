import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sql } from './app';
import { assertCashInvariants } from './cash-invariants';

/**
 * The booking invariants over the whole test database (one per Jest worker), run after every
 * concurrency scenario. Each check lists the offending rows, so a failure names what broke:
 * - no seat is sold twice: at most one CONFIRMED reservation and one COMPLETED payment's item
 *   per seat (a refunded seat may be sold again, so REFUNDED payments' items do not count);
 * - every SOLD seat has exactly one CONFIRMED reservation (the one it points to) and one
 *   COMPLETED payment item, and every CONFIRMED reservation's seat is SOLD;
 * - every payment's amount is the sum of its items; a COMPLETED one has one item per CONFIRMED
 *   reservation and exactly one PAYMENT ledger row of the same amount; a REFUNDED one has one
 *   item per REFUNDED reservation, that PAYMENT row plus exactly one REFUND row of +amount, and
 *   a refundedAt;
 * - no seat still points to a REFUNDED reservation, and every REFUNDED reservation belongs to a
 *   REFUNDED payment;
 * - every live hold is mirrored by its seat (HELD, pointing to it, same expiry), and no seat is
 *   HELD live without such a reservation;
 * - and the cash ledger invariants (balance = sum of history, never negative).
 */
export async function assertBookingInvariants(app: NestFastifyApplication): Promise<void> {
  const soldTwice = await sql(
    app,
    `SELECT pi.seat_id, COUNT(*) AS items FROM payment_items pi
       JOIN payments p ON p.id = pi.payment_id AND p.status = 'COMPLETED'
      GROUP BY pi.seat_id HAVING COUNT(*) > 1
     UNION ALL
     SELECT seat_id, COUNT(*) FROM reservations WHERE status = 'CONFIRMED'
      GROUP BY seat_id HAVING COUNT(*) > 1`,
  );
  expect(soldTwice).toEqual([]);

  const soldWithoutSale = await sql(
    app,
    `SELECT s.id, s.reservation_id, r.status AS reservation_status, r.seat_id,
            (SELECT COUNT(*) FROM payment_items pi JOIN payments p ON p.id = pi.payment_id
              WHERE pi.seat_id = s.id AND p.status = 'COMPLETED') AS items
       FROM seats s LEFT JOIN reservations r ON r.id = s.reservation_id
      WHERE s.status = 'SOLD'
        AND (r.id IS NULL OR r.status <> 'CONFIRMED' OR r.seat_id <> s.id
             OR (SELECT COUNT(*) FROM payment_items pi JOIN payments p ON p.id = pi.payment_id
                  WHERE pi.seat_id = s.id AND p.status = 'COMPLETED') <> 1
             OR (SELECT COUNT(*) FROM reservations c
                  WHERE c.seat_id = s.id AND c.status = 'CONFIRMED') <> 1)`,
  );
  expect(soldWithoutSale).toEqual([]);

  const confirmedNotSold = await sql(
    app,
    `SELECT r.id, r.seat_id, s.status AS seat_status, r.payment_id
       FROM reservations r JOIN seats s ON s.id = r.seat_id
       LEFT JOIN payments p ON p.id = r.payment_id
       LEFT JOIN payment_items pi ON pi.reservation_id = r.id
      WHERE r.status = 'CONFIRMED'
        AND (s.status <> 'SOLD' OR s.reservation_id <> r.id OR p.id IS NULL
             OR p.status <> 'COMPLETED' OR p.user_id <> r.user_id OR pi.payment_id IS NULL OR pi.payment_id <> p.id
             OR pi.seat_id <> r.seat_id OR pi.price <> r.price)`,
  );
  expect(confirmedNotSold).toEqual([]);

  const paymentMismatches = await sql(
    app,
    `SELECT p.id, p.status, p.amount, p.refunded_at,
            (SELECT COALESCE(SUM(price), 0) FROM payment_items WHERE payment_id = p.id) AS items_sum,
            (SELECT COUNT(*) FROM payment_items WHERE payment_id = p.id) AS items,
            (SELECT COUNT(*) FROM reservations
              WHERE payment_id = p.id
                AND status = IF(p.status = 'REFUNDED', 'REFUNDED', 'CONFIRMED')) AS settled,
            (SELECT COUNT(*) FROM reservations WHERE payment_id = p.id) AS linked,
            (SELECT COUNT(*) FROM cash_history h
              WHERE h.payment_id = p.id AND h.type = 'PAYMENT' AND h.amount = -p.amount
                AND h.user_id = p.user_id) AS debits,
            (SELECT COUNT(*) FROM cash_history h
              WHERE h.payment_id = p.id AND h.type = 'REFUND' AND h.amount = p.amount
                AND h.user_id = p.user_id) AS credits,
            (SELECT COUNT(*) FROM cash_history h WHERE h.payment_id = p.id) AS ledger_rows
       FROM payments p
     HAVING amount <> items_sum OR items = 0 OR items <> settled OR linked <> items
         OR debits <> 1 OR credits <> (status = 'REFUNDED')
         OR ledger_rows <> 1 + (status = 'REFUNDED')
         OR (refunded_at IS NULL) = (status = 'REFUNDED')`,
  );
  expect(paymentMismatches).toEqual([]);

  const refundedNotReleased = await sql(
    app,
    `SELECT r.id, r.seat_id, r.payment_id, p.status AS payment_status,
            (SELECT COUNT(*) FROM seats s WHERE s.reservation_id = r.id) AS seats_pointing
       FROM reservations r LEFT JOIN payments p ON p.id = r.payment_id
      WHERE r.status = 'REFUNDED'
        AND (p.id IS NULL OR p.status <> 'REFUNDED' OR p.user_id <> r.user_id
             OR (SELECT COUNT(*) FROM seats s WHERE s.reservation_id = r.id) <> 0)`,
  );
  expect(refundedNotReleased).toEqual([]);

  const liveHoldsNotMirrored = await sql(
    app,
    `SELECT r.id, r.seat_id, s.status AS seat_status, s.reservation_id, r.expires_at, s.hold_expires_at
       FROM reservations r JOIN seats s ON s.id = r.seat_id
      WHERE r.status = 'HELD' AND r.expires_at > UTC_TIMESTAMP(3)
        AND (s.status <> 'HELD' OR s.reservation_id IS NULL OR s.reservation_id <> r.id
             OR s.hold_expires_at <> r.expires_at)`,
  );
  expect(liveHoldsNotMirrored).toEqual([]);

  const heldSeatsWithoutHold = await sql(
    app,
    `SELECT s.id, s.reservation_id, r.status AS reservation_status
       FROM seats s LEFT JOIN reservations r ON r.id = s.reservation_id
      WHERE s.status = 'HELD' AND s.hold_expires_at > UTC_TIMESTAMP(3)
        AND (r.id IS NULL OR r.status <> 'HELD' OR r.seat_id <> s.id)`,
  );
  expect(heldSeatsWithoutHold).toEqual([]);

  await assertCashInvariants(app);
}
