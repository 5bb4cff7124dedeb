import { Logger } from '@nestjs/common';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../config/configuration';
import { dataSourceOptions } from './data-source-options';

const MIGRATION_LOCK = 'concert_booking_migrations';

/**
 * Creates the database if missing and applies pending migrations. Several instances may boot at
 * once, so migrations run under a MySQL named lock held by a single-connection data source.
 */
export async function prepareDatabase(config: DatabaseConfig, logger = new Logger('Database')) {
  const admin = await createConnection({
    host: config.host,
    port: config.port,
    socketPath: config.socketPath,
    user: config.user,
    password: config.password,
    connectTimeout: 5000,
  });
  try {
    await admin.query(
      `CREATE DATABASE IF NOT EXISTS \`${config.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin.end();
  }

  const migrator = singleConnection(config);
  await migrator.initialize();
  try {
    const [{ acquired }] = await migrator.query<Array<{ acquired: number | null }>>(
      'SELECT GET_LOCK(?, 60) AS acquired',
      [MIGRATION_LOCK],
    );
    if (acquired !== 1) throw new Error('Timed out waiting for the migration lock');
    try {
      const applied = await migrator.runMigrations({ transaction: 'each' });
      if (applied.length > 0) {
        logger.log(`Applied migrations: ${applied.map((m) => m.name).join(', ')}`);
      }
    } finally {
      await migrator.query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK]);
    }
  } finally {
    await migrator.destroy();
  }
}

/**
 * DB_MIGRATIONS_ON_START=false (on Kubernetes a Job migrates once per rollout): creates and applies
 * nothing, but refuses to start on a schema older than this build, so a new pod never serves
 * before the migration has run (it exits, and is restarted until the schema is current).
 */
export async function assertNoPendingMigrations(config: DatabaseConfig): Promise<void> {
  const dataSource = singleConnection(config);
  await dataSource.initialize();
  try {
    if (await dataSource.showMigrations()) {
      throw new Error(
        'The database has pending migrations and DB_MIGRATIONS_ON_START=false: ' +
          'run the migration job first (docs/kubernetes.md, "Migrations")',
      );
    }
  } finally {
    await dataSource.destroy();
  }
}

function singleConnection(config: DatabaseConfig): DataSource {
  return new DataSource({
    ...dataSourceOptions(config),
    poolSize: 1,
    extra: { connectionLimit: 1, connectTimeout: 5000 },
  });
}
