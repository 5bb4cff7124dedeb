import { MigrationInterface, QueryRunner } from 'typeorm';

/** Must equal OUTBOX_PARTITIONS (src/common/outbox/outbox.constants.ts) when this ran. */
const PARTITIONS = 16;

/**
 * The transactional outbox (contract v2, "Booking events"): every committed change writes its
 * event here in its own transaction; the relay publishes and marks them (docs/events.md).
 */
export class Outbox1764710000000 implements MigrationInterface {
  name = 'Outbox1764710000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // `id` is the commit order of a subject's events: every change that writes one event of a
    // subject first locks that subject's row (reservation, payment, wallet), so a later event of
    // it is inserted, and numbered, only after the earlier one committed.
    // `data` is text, not JSON: MySQL 8 hands JSON columns back parsed, MariaDB as text, and the
    // relay splices the stored text into the envelope as it is.
    // ix_outbox_unsent serves every relay query: the pending partitions (a loose scan), a
    // partition's oldest unsent events in order, the backlog count.
    // No foreign key to outbox_partitions on purpose: its check would take a shared lock on the
    // partition row, and a relay holds that row while it publishes.
    await queryRunner.query(`
      CREATE TABLE outbox_events (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        event_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        type VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        subject VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        partition_no SMALLINT UNSIGNED NOT NULL,
        data MEDIUMTEXT NOT NULL,
        created_at DATETIME(3) NOT NULL,
        sent_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY ix_outbox_unsent (sent_at, partition_no, id),
        KEY ix_outbox_created (created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // One row per relay partition: the row lock a relay holds while it publishes the partition's
    // events is what keeps a subject's events from being published by two instances at once.
    await queryRunner.query(`
      CREATE TABLE outbox_partitions (
        partition_no SMALLINT UNSIGNED NOT NULL,
        PRIMARY KEY (partition_no)
      ) ENGINE=InnoDB`);
    const rows = Array.from({ length: PARTITIONS }, (_, partition) => `(${partition})`);
    await queryRunner.query(
      `INSERT INTO outbox_partitions (partition_no) VALUES ${rows.join(', ')}`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS outbox_partitions');
    await queryRunner.query('DROP TABLE IF EXISTS outbox_events');
  }
}
