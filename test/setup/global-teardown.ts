import { createConnection } from 'mysql2/promise';
import Redis from 'ioredis';

/** Drops every database and Redis key this run created, then stops containers if any. */
export default async function globalTeardown(): Promise<void> {
  const runId = process.env.TEST_RUN_ID;
  if (runId && !globalThis.__TEST_CONTAINERS__) {
    const connection = await createConnection({
      host: process.env.DB_HOST,
      port: Number(process.env.DB_PORT),
      user: process.env.DB_USER,
      password: process.env.DB_PASSWORD,
    });
    const [rows] = await connection.query(`SHOW DATABASES LIKE 'concert_test_${runId}_%'`);
    for (const row of rows as Record<string, string>[]) {
      await connection.query(`DROP DATABASE IF EXISTS \`${Object.values(row)[0]}\``);
    }
    await connection.end();

    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `test:${runId}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
  await Promise.all((globalThis.__TEST_CONTAINERS__ ?? []).map((container) => container.stop()));
  // Its keys go with it (no persistence).
  await globalThis.__TEST_REDIS_CLUSTER__?.stop();
}
