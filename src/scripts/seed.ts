import 'reflect-metadata';
import { TransactionHost } from '../common/database/transaction';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { CashService } from '../modules/cash/domain/cash.service';
import { ConcertFacade } from '../modules/concert/application/concert.facade';

/**
 * Demo data, safe to run any number of times: fixed demo users, and for each demo concert a set of
 * schedules with an open booking window (added again only when none is open any more).
 */
const DEMO_USERS = Array.from({ length: 5 }, (_, i) => ({
  id: `00000000-0000-4000-8000-00000000000${i + 1}`,
  name: `Demo User ${i + 1}`,
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
  try {
    const db = app.get(DataSource);
    const concerts = app.get(ConcertFacade);
    const cash = app.get(CashService);
    const txHost = app.get(TransactionHost);

    for (const user of DEMO_USERS) {
      await db.query(
        `INSERT INTO users (id, name, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))
         ON DUPLICATE KEY UPDATE id = id`,
        [user.id, user.name],
      );
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
      const open = await concerts.listBookableSchedules(concertId);
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
    console.log('Demo users (use these ids for POST /queue/tokens):');
    for (const user of DEMO_USERS) console.log(`  ${user.id}  ${user.name}`);
    console.log('Concerts:');
    for (const concert of summary) console.log(`  #${concert.id}  ${concert.title}`);
  } finally {
    await app.close();
  }
}

seed().catch((error: unknown) => {
  console.error('Seeding failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
