import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refunds (contract v2, "After the sale"): a COMPLETED payment may become REFUNDED, its
 * reservations REFUNDED and its seats AVAILABLE again. `payments.status` already allows REFUNDED
 * and `cash_history.type` already has REFUND with `payment_id`; what is missing is when, the
 * reservation status, and room above the charge cap for a refunded balance.
 */
export class Refunds1764700000000 implements MigrationInterface {
  name = 'Refunds1764700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // The CHECK ties the two columns: a refunded payment always says when, a completed one never.
    await queryRunner.query(`
      ALTER TABLE payments
        ADD COLUMN refunded_at DATETIME(3) NULL AFTER paid_at,
        ADD CONSTRAINT chk_payments_refunded_at
          CHECK ((status = 'REFUNDED') = (refunded_at IS NOT NULL))`);

    // REFUNDED is not live, so live_seat_id turns NULL and the seat may get a new reservation.
    await queryRunner.query(`
      ALTER TABLE reservations
        MODIFY COLUMN status ENUM('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED', 'REFUNDED') NOT NULL`);

    // Refunds are not capped by the 100,000,000 charge limit (the contract), so the wallet may
    // hold more than a charge could bring it to; the code still refuses charges above the cap.
    await queryRunner.query('ALTER TABLE cash_wallets DROP CONSTRAINT chk_cash_wallets_balance');
    await queryRunner.query(
      'ALTER TABLE cash_wallets ADD CONSTRAINT chk_cash_wallets_balance CHECK (balance >= 0)',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Fails while refunded rows or balances above the cap exist: those cannot be expressed in the
    // old schema, and silently rewriting money or bookings is worse than a failed rollback.
    await queryRunner.query('ALTER TABLE cash_wallets DROP CONSTRAINT chk_cash_wallets_balance');
    await queryRunner.query(
      'ALTER TABLE cash_wallets ADD CONSTRAINT chk_cash_wallets_balance CHECK (balance BETWEEN 0 AND 100000000)',
    );
    await queryRunner.query(`
      ALTER TABLE reservations
        MODIFY COLUMN status ENUM('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED') NOT NULL`);
    await queryRunner.query(
      'ALTER TABLE payments DROP CONSTRAINT chk_payments_refunded_at, DROP COLUMN refunded_at',
    );
  }
}
