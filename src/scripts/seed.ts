import 'reflect-metadata';
import { TransactionHost } from '../common/database/transaction';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { CashService } from '../modules/cash/domain/cash.service';
import { ConcertFacade } from '../modules/concert/application/concert.facade';
import { ConcertService } from '../modules/concert/domain/concert.service';
import { emailKey } from '../modules/user/domain/user';
import { UserService } from '../modules/user/domain/user.service';

/**
 * Demo data, safe to run any number of times, also at once: fixed demo users who can log in, and for each demo
 * concert a set of schedules with an open booking window (added again only when none is open any
 * more).
 *
 * The demo passwords are public (printed below, and in this file): a deployment that is not a demo
 * must not run this script (docs/operations.md).
 */
const DEMO_USERS = Array.from({ length: 5 }, (_, i) => ({
  id: `00000000-0000-4000-8000-00000000000${i + 1}`,
  name: `Demo User ${i + 1}`,
  email: `demo${i + 1}@example.com`,
  password: `demo-password-${i + 1}`,
}));

/** Enough for a few seats; a single charge may add at most 1,000,000 KRW. */
const DEMO_STARTING_BALANCE = 1_000_000;

const DEMO_CONCERTS = [
  { title: 'IU 2026 HEREH World Tour', performer: 'IU', prices: [] as number[] },
  { title: 'NewJeans Bunnies Camp', performer: 'NewJeans', prices: [] },
  { title: 'Seoul Philharmonic: Mahler 2', performer: 'Seoul Philharmonic Orchestra', prices: [] },
];

const DAY = 86_400_000;

function seatPrices(seatCount: number): number[] {
  // Front rows cost more: a realistic spread for the demo UI.
  return Array.from({ length: seatCount }, (_, i) =>
    i < 10 ? 150_000 : i < 30 ? 110_000 : 80_000,
  );
}

async function seed(): Promise<void> {
  process.env.JOBS_ENABLED = 'false';
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(), {
    logger: ['error', 'warn'],
  });
  const db = app.get(DataSource);
  // Two seed runs at once (a compose `up` racing a manual `npm run seed`) would each see "no
  // concert, no open schedule" and create them twice: a MySQL named lock, per database, makes the
  // second run wait for the first and then find everything in place.
  const lockName = `concert_booking_seed:${String(db.options.database)}`.slice(0, 64);
  const lock = db.createQueryRunner();
  await lock.connect();
  try {
    const [{ acquired }] = (await lock.query('SELECT GET_LOCK(?, 120) AS acquired', [
      lockName,
    ])) as Array<{ acquired: number | null }>;
    if (acquired !== 1) throw new Error('Timed out waiting for another seed run to finish');
    const concerts = app.get(ConcertFacade);
    const cash = app.get(CashService);
    const txHost = app.get(TransactionHost);
    const users = app.get(UserService);

    for (const user of DEMO_USERS) {
      const existing = await db.query<{ passwordHash: string | null }[]>(
        'SELECT password_hash AS passwordHash FROM users WHERE id = ?',
        [user.id],
      );
      if (existing.length === 0 || existing[0].passwordHash === null) {
        // Hashed by the app's own hasher (argon2id with the AUTH_ARGON2_* cost), only when the user
        // has no password yet: a re-run costs no hashing and changes nobody's credentials.
        const passwordHash = await users.hashPassword(user.password);
        if (existing.length === 0) {
          await db.query(
            `INSERT INTO users (id, name, email, email_key, password_hash, created_at)
             VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3))`,
            [user.id, user.name, user.email, emailKey(user.email), passwordHash],
          );
        } else {
          // A demo user from before accounts existed: give it its login.
          await db.query(
            `UPDATE users SET email = ?, email_key = ?, password_hash = ?
             WHERE id = ? AND password_hash IS NULL`,
            [user.email, emailKey(user.email), passwordHash, user.id],
          );
        }
      }
      await db.query(
        `INSERT INTO cash_wallets (user_id, balance, updated_at) VALUES (?, 0, UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE user_id = user_id`,
        [user.id],
      );
      // Through the cash service so the ledger gets its CHARGE row; a wallet that has ever moved
      // (an earlier seed, or a demo user who already paid) is left alone.
      await txHost.withTransaction(() => cash.chargeIfNeverUsed(user.id, DEMO_STARTING_BALANCE));
    }

    for (const demo of DEMO_CONCERTS) {
      const rows = await db.query<{ id: number }[]>(
        'SELECT id FROM concerts WHERE title = ? LIMIT 1',
        [demo.title],
      );
      const concertId =
        rows[0]?.id ??
        (await concerts.createConcert({ title: demo.title, performer: demo.performer })).id;
      const open = await app.get(ConcertService).listBookableSchedules(concertId);
      if (open.length > 0) continue;
      const now = Date.now();
      for (const daysAhead of [14, 15, 21]) {
        await concerts.putScheduleOnSale(concertId, {
          startsAt: new Date(now + daysAhead * DAY),
          bookingOpensAt: new Date(now - DAY),
          bookingClosesAt: new Date(now + (daysAhead - 1) * DAY),
          prices: seatPrices(50),
        });
      }
    }

    const summary = await db.query<{ id: number; title: string }[]>(
      'SELECT id, title FROM concerts ORDER BY id',
    );
    console.log('Demo users (DEMO ONLY: public passwords), each with 1,000,000 KRW to start:');
    for (const user of DEMO_USERS) {
      console.log(`  ${user.email}  password ${user.password}  (id ${user.id})`);
    }
    const first = DEMO_USERS[0];
    console.log(
      'Log in (the answer\'s accessToken goes in "Authorization: Bearer <accessToken>"):',
    );
    console.log(
      `  curl -s -X POST http://localhost:3000/auth/tokens -H 'Content-Type: application/json' \\\n` +
        `    -d '{"email":"${first.email}","password":"${first.password}"}'`,
    );
    console.log('Concerts (POST /queue/tokens {"concertId": <id>} to queue for one):');
    for (const concert of summary) console.log(`  #${concert.id}  ${concert.title}`);
  } finally {
    // Released with its connection too, should the query fail.
    await lock.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
    await lock.release();
    await app.close();
  }
}

seed().catch((error: unknown) => {
  console.error('Seeding failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
