import { Logger } from '@nestjs/common';
import { createConnection } from 'mysql2/promise';
import { resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { databaseConfig } from '../../src/common/config/configuration';
import { validateEnvironment } from '../../src/common/config/env.validation';
import {
  assertNoPendingMigrations,
  prepareDatabase,
} from '../../src/common/database/prepare-database';
import { podContainers, renderKustomization } from './kustomize';

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

  async function createEmptyDatabase(name: string): Promise<void> {
    const config = databaseConfig();
    const admin = await createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
    });
    try {
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
    } finally {
      await admin.end();
    }
  }

  it('should refuse to start on a schema with pending migrations, and pass once migrated', async () => {
    // The file's own database (test-env.ts), created empty here: what a pod sees before the Job ran.
    const config = { ...databaseConfig(), migrateOnStart: false };
    await createEmptyDatabase(config.name);

    await expect(assertNoPendingMigrations(config)).rejects.toThrow(
      /pending migrations and DB_MIGRATIONS_ON_START=false/,
    );
    const quiet = { log: () => undefined } as unknown as Logger;
    await prepareDatabase(config, quiet); // what the migration Job runs
    await expect(assertNoPendingMigrations(config)).resolves.toBeUndefined();
  });

  it('should migrate with the very command the Kubernetes migration Job runs', async () => {
    const { manifests } = renderKustomization(
      resolve(__dirname, '../../deploy/k8s/overlays/production'),
      { substitute: (missing) => `${missing}.example` },
    );
    const job = manifests.find((m) => m.kind === 'Job');
    const [node, flag, script] = podContainers(job!)[0].command as string[];
    expect([node, flag]).toEqual(['node', '-e']);

    // A database of its own (named for the teardown's sweep), missing as on a first rollout.
    const original = process.env.DB_NAME as string;
    process.env.DB_NAME = `${original}_job`;
    try {
      // The image's working directory holds dist/, the build of src/.
      const load = (id: string): unknown =>
        jest.requireActual(
          id.startsWith('./dist/') ? resolve(__dirname, '../../src', id.slice(7)) : id,
        );
      const exitCode = await new Promise<number>((exit) => {
        runInNewContext(script, { require: load, process: { exit }, console });
      });
      expect(exitCode).toBe(0);
      await expect(
        assertNoPendingMigrations({ ...databaseConfig(), migrateOnStart: false }),
      ).resolves.toBeUndefined();
    } finally {
      process.env.DB_NAME = original;
    }
  });
});
