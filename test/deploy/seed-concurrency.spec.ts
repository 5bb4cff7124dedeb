import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

const SEED = join(__dirname, '../../dist/scripts/seed.js');

/** Runs the built seed script against `database`; resolves with its exit code and output. */
function runSeed(database: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SEED], {
      env: {
        ...process.env,
        DB_NAME: database,
        REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}seed:`,
        // The demo hashes at the floor cost; the test is about the race, not about argon2.
        AUTH_ARGON2_TIME_COST: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const bound = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(bound);
      resolve({ code, output });
    });
  });
}

describe('seed script (built)', () => {
  it('should create each demo concert, its schedules and the demo users once when two runs start at the same time', async () => {
    if (!existsSync(SEED)) throw new Error(`${SEED} is missing: run \`npm run build\` first`);
    const database = `${process.env.DB_NAME}_seed`;

    const runs = await Promise.all([runSeed(database), runSeed(database)]);
    for (const run of runs) expect(run).toMatchObject({ code: 0 });

    const db = await createConnection({
      host: process.env.DB_HOST,
      port: Number(process.env.DB_PORT),
      user: process.env.DB_USER,
      password: process.env.DB_PASSWORD,
      database,
    });
    try {
      const [concerts] = await db.query(
        `SELECT c.title, COUNT(s.id) AS schedules FROM concerts c
           LEFT JOIN concert_schedules s ON s.concert_id = c.id
          GROUP BY c.id, c.title ORDER BY c.title`,
      );
      expect(
        (concerts as { title: string; schedules: number }[]).map((c) => ({
          title: c.title,
          schedules: Number(c.schedules),
        })),
      ).toEqual([
        { title: 'IU 2026 HEREH World Tour', schedules: 3 },
        { title: 'NewJeans Bunnies Camp', schedules: 3 },
        { title: 'Seoul Philharmonic: Mahler 2', schedules: 3 },
      ]);
      const [charges] = await db.query(
        "SELECT user_id, COUNT(*) AS n FROM cash_history WHERE type = 'CHARGE' GROUP BY user_id",
      );
      expect((charges as { n: number }[]).map((c) => Number(c.n))).toEqual([1, 1, 1, 1, 1]);

      // Once no schedule is open any more, two runs at once add one new set per concert.
      await db.query(
        'UPDATE concert_schedules SET booking_opens_at = UTC_TIMESTAMP(3) - INTERVAL 2 DAY, ' +
          'booking_closes_at = UTC_TIMESTAMP(3) - INTERVAL 1 DAY',
      );
      const again = await Promise.all([runSeed(database), runSeed(database)]);
      for (const run of again) expect(run).toMatchObject({ code: 0 });
      const [schedules] = await db.query(
        'SELECT concert_id, COUNT(*) AS n FROM concert_schedules GROUP BY concert_id',
      );
      expect((schedules as { n: number }[]).map((c) => Number(c.n))).toEqual([6, 6, 6]);
    } finally {
      await db.end();
    }
  });
});
