import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Waiting rooms (contract v2): an operator's settings per concert. The queue itself stays in
 * Redis; only these settings need to survive a Redis restart. A NULL column follows the QUEUE_*
 * environment default, so a concert never configured has no row at all.
 */
export class WaitingRooms1764730000000 implements MigrationInterface {
  name = 'WaitingRooms1764730000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE waiting_rooms (
        concert_id INT UNSIGNED NOT NULL,
        max_active_users INT UNSIGNED NULL,
        admit_per_second INT UNSIGNED NULL,
        active_ttl_seconds INT UNSIGNED NULL,
        waiting_idle_seconds INT UNSIGNED NULL,
        opens_at DATETIME(3) NULL,
        admission_starts_at DATETIME(3) NULL,
        room_order ENUM('FIFO', 'RANDOM_AT_START') NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (concert_id),
        CONSTRAINT fk_waiting_rooms_concert FOREIGN KEY (concert_id) REFERENCES concerts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS waiting_rooms');
  }
}
