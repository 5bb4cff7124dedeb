import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The invariant audit (docs/audit.md) checks every SOLD seat for its one CONFIRMED reservation.
 * With reservations indexed by seat_id alone each seat costs a random read of the reservation row
 * for its status and payment: at 1M reservations 7 s of a 13 s audit. Carrying status and
 * payment_id in the seat index answers it from the index, in seat order: 2.7 s of 6.8 s
 * (docs/benchmarks.md, "Audit").
 *
 * It replaces idx_reservations_seat rather than joining it, so reservations keep as many indexes
 * as before: still the index of fk_reservations_seat, and any seat_id lookup uses its prefix. The
 * price is that a status change (hold → confirmed, expired, cancelled, refunded) now also moves
 * the row's entry in this index, as it already does in idx_reservations_status_expires.
 */
export class AuditIndexes1764720000000 implements MigrationInterface {
  name = 'AuditIndexes1764720000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // One ALTER: the foreign key is never without an index to use.
    await queryRunner.query(`
      ALTER TABLE reservations
        ADD KEY idx_reservations_seat_status_payment (seat_id, status, payment_id),
        DROP KEY idx_reservations_seat`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE reservations
        ADD KEY idx_reservations_seat (seat_id),
        DROP KEY idx_reservations_seat_status_payment`);
  }
}
