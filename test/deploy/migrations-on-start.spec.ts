import { Logger } from '@nestjs/common';
import { createConnection } from 'mysql2/promise';
import { databaseConfig } from '../../src/common/config/configuration';
import { validateEnvironment } from '../../src/common/config/env.validation';
import {
  assertNoPendingMigrations,
  prepareDatabase,
} from '../../src/common/database/prepare-database';

// DB_MIGRATIONS_ON_START=false is what the Kubernetes pods run with (deploy/k8s, the migration
// Job migrates): they must apply nothing, and must not start on a schema older than their build.
describe('DB_MIGRATIONS_ON_START', () => {
  const REQUIRED = { AUTH_JWT_SECRET: 'a-test-secret-that-is-long-enough-1234' };

  it('should default to migrating on start, and accept only true or false', () => {
    expect(validateEnvironment({ ...REQUIRED }).DB_MIGRATIONS_ON_START).toBe('true');
    expect(
      validateEnvironment({ ...REQUIRED, DB_MIGRATIONS_ON_START: 'false' }).DB_MIGRATIONS_ON_START,
    ).toBe('false');
    expect(() => validateEnvironment({ ...REQUIRED, DB_MIGRATIONS_ON_START: 'no' })).toThrow(
      /DB_MIGRATIONS_ON_START/,
    );
  });

  it('should refuse to start on a schema with pending migrations, and pass once migrated', async () => {
    // The file's own database (test-env.ts), created empty here: what a pod sees before the Job ran.
    const config = { ...databaseConfig(), migrateOnStart: false };
    const admin = await createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
    });
    try {
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${config.name}\``);
    } finally {
      await admin.end();
    }

    await expect(assertNoPendingMigrations(config)).rejects.toThrow(
      /pending migrations and DB_MIGRATIONS_ON_START=false/,
    );
    const quiet = { log: () => undefined } as unknown as Logger;
    await prepareDatabase(config, quiet); // what the migration Job runs
    await expect(assertNoPendingMigrations(config)).resolves.toBeUndefined();
  });
});
