import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts (contract v2): users sign up with an email and a password, or arrive from an external
 * identity provider. Existing users keep working; they simply have no credentials to log in with.
 */
export class Accounts1764600000000 implements MigrationInterface {
  name = 'Accounts1764600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // email keeps what the user typed; email_key is its case-folded form, and its unique key is
    // what makes "one account per address" hold under concurrent sign-ups. External users may
    // carry an email without claiming the login key.
    await queryRunner.query(`
      ALTER TABLE users
        ADD COLUMN email VARCHAR(254) NULL AFTER name,
        ADD COLUMN email_key VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL AFTER email,
        ADD COLUMN password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER email_key,
        ADD UNIQUE KEY uq_users_email_key (email_key)`);

    // One local user per (issuer, subject) of an external identity provider; the primary key
    // makes its creation on first sight happen once even when first requests race.
    await queryRunner.query(`
      CREATE TABLE user_identities (
        issuer VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        subject VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        user_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (issuer, subject),
        UNIQUE KEY uq_user_identities_user (user_id),
        CONSTRAINT fk_user_identities_user FOREIGN KEY (user_id) REFERENCES users (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS user_identities');
    await queryRunner.query(
      'ALTER TABLE users DROP KEY uq_users_email_key, DROP COLUMN password_hash, DROP COLUMN email_key, DROP COLUMN email',
    );
  }
}
