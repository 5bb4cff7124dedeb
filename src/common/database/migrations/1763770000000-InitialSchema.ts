import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole schema, designed up front for every module so later features add behaviour, not tables.
 * Written for both MySQL 8 and MariaDB 10.11: DATETIME(3) in UTC, integer money, InnoDB, utf8mb4.
 */
export class InitialSchema1763770000000 implements MigrationInterface {
  name = 'InitialSchema1763770000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

    await queryRunner.query(`
      CREATE TABLE users (
        id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        name VARCHAR(50) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id)
      ) ${table}`);

    await queryRunner.query(`
      CREATE TABLE concerts (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        title VARCHAR(200) NOT NULL,
        performer VARCHAR(100) NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY idx_concerts_title (title)
      ) ${table}`);

    await queryRunner.query(`
      CREATE TABLE concert_schedules (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        concert_id INT UNSIGNED NOT NULL,
        starts_at DATETIME(3) NOT NULL,
        booking_opens_at DATETIME(3) NOT NULL,
        booking_closes_at DATETIME(3) NOT NULL,
        total_seats SMALLINT UNSIGNED NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY idx_schedules_concert_starts (concert_id, starts_at),
        CONSTRAINT fk_schedules_concert FOREIGN KEY (concert_id) REFERENCES concerts (id),
        CONSTRAINT chk_schedules_window CHECK (booking_opens_at < booking_closes_at),
        CONSTRAINT chk_schedules_total_seats CHECK (total_seats BETWEEN 1 AND 500)
      ) ${table}`);

    // A seat carries its current hold (reservation_id + hold_expires_at): the conditional
    // UPDATE on this row is the fence that decides who holds the seat.
    await queryRunner.query(`
      CREATE TABLE seats (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        schedule_id INT UNSIGNED NOT NULL,
        number SMALLINT UNSIGNED NOT NULL,
        price INT UNSIGNED NOT NULL,
        status ENUM('AVAILABLE', 'HELD', 'SOLD') NOT NULL DEFAULT 'AVAILABLE',
        reservation_id INT UNSIGNED NULL,
        hold_expires_at DATETIME(3) NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_seats_schedule_number (schedule_id, number),
        CONSTRAINT fk_seats_schedule FOREIGN KEY (schedule_id) REFERENCES concert_schedules (id),
        CONSTRAINT chk_seats_price CHECK (price > 0)
      ) ${table}`);

    // live_seat_id is non-NULL only while a reservation owns its seat (HELD or CONFIRMED), so the
    // unique key makes "one live reservation per seat" a database guarantee, not just code.
    await queryRunner.query(`
      CREATE TABLE reservations (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        schedule_id INT UNSIGNED NOT NULL,
        seat_id INT UNSIGNED NOT NULL,
        seat_number SMALLINT UNSIGNED NOT NULL,
        price INT UNSIGNED NOT NULL,
        status ENUM('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED') NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        payment_id INT UNSIGNED NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        live_seat_id INT UNSIGNED GENERATED ALWAYS AS (IF(status IN ('HELD', 'CONFIRMED'), seat_id, NULL)) STORED,
        PRIMARY KEY (id),
        UNIQUE KEY uq_reservations_live_seat (live_seat_id),
        KEY idx_reservations_status_expires (status, expires_at),
        KEY idx_reservations_user_status_expires (user_id, status, expires_at),
        KEY idx_reservations_seat (seat_id),
        KEY idx_reservations_schedule (schedule_id),
        CONSTRAINT fk_reservations_user FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT fk_reservations_schedule FOREIGN KEY (schedule_id) REFERENCES concert_schedules (id),
        CONSTRAINT fk_reservations_seat FOREIGN KEY (seat_id) REFERENCES seats (id)
      ) ${table}`);

    await queryRunner.query(`
      CREATE TABLE cash_wallets (
        user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        balance BIGINT NOT NULL DEFAULT 0,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (user_id),
        CONSTRAINT fk_cash_wallets_user FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT chk_cash_wallets_balance CHECK (balance BETWEEN 0 AND 100000000)
      ) ${table}`);

    // Append-only ledger: amount is signed (+ charge/refund, - payment), so
    // SUM(amount) per user always equals the wallet balance.
    await queryRunner.query(`
      CREATE TABLE cash_history (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        type ENUM('CHARGE', 'PAYMENT', 'REFUND') NOT NULL,
        amount BIGINT NOT NULL,
        balance_after BIGINT NOT NULL,
        payment_id INT UNSIGNED NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY idx_cash_history_user_id (user_id, id),
        CONSTRAINT fk_cash_history_user FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT chk_cash_history_balance_after CHECK (balance_after >= 0)
      ) ${table}`);

    await queryRunner.query(`
      CREATE TABLE payments (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        amount BIGINT NOT NULL,
        status ENUM('COMPLETED', 'REFUNDED') NOT NULL,
        paid_at DATETIME(3) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY idx_payments_user_id (user_id, id),
        CONSTRAINT fk_payments_user FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT chk_payments_amount CHECK (amount > 0)
      ) ${table}`);

    // What was bought, copied at payment time so a receipt survives later catalogue changes.
    await queryRunner.query(`
      CREATE TABLE payment_items (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        payment_id INT UNSIGNED NOT NULL,
        reservation_id INT UNSIGNED NOT NULL,
        concert_id INT UNSIGNED NOT NULL,
        concert_title VARCHAR(200) NOT NULL,
        schedule_id INT UNSIGNED NOT NULL,
        starts_at DATETIME(3) NOT NULL,
        seat_id INT UNSIGNED NOT NULL,
        seat_number SMALLINT UNSIGNED NOT NULL,
        price INT UNSIGNED NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_payment_items_reservation (reservation_id),
        KEY idx_payment_items_payment (payment_id),
        KEY idx_payment_items_seat (seat_id),
        CONSTRAINT fk_payment_items_payment FOREIGN KEY (payment_id) REFERENCES payments (id),
        CONSTRAINT fk_payment_items_reservation FOREIGN KEY (reservation_id) REFERENCES reservations (id)
      ) ${table}`);

    // One row per (user, scope, key): the unique key serialises concurrent first uses.
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        scope VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        idem_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        request_fingerprint CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        response_status SMALLINT UNSIGNED NULL,
        response_body MEDIUMTEXT NULL,
        created_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_idempotency_user_scope_key (user_id, scope, idem_key),
        KEY idx_idempotency_expires (expires_at)
      ) ${table}`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of [
      'idempotency_keys',
      'payment_items',
      'payments',
      'cash_history',
      'cash_wallets',
      'reservations',
      'seats',
      'concert_schedules',
      'concerts',
      'users',
    ]) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${name}`);
    }
  }
}
