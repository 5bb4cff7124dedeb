import { Logger } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedLock, LockBusyError } from '../../src/common/lock/distributed-lock';
import { RedlockDistributedLock } from '../../src/common/lock/redlock-distributed-lock';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { sql, startApp } from '../support/app';
import { assertBookingInvariants } from '../support/booking-invariants';
import { call, fansWithActiveTokens, Reply, startCluster, tally } from '../support/booking';
import { eventually } from '../support/eventually';
import { metricValue } from '../support/events';
import { resetQueue } from '../support/queue';
import { RedisMaster, stopMasters } from '../support/redis-masters';

const INSTANCES = 3;
const SEATS_PER_RACE = 8;
const FANS_PER_SEAT = 12;
// A split vote (each contender won one node) turns every contender away; a real client retries,
// and so do these fans, until their seat has a winner.
const MAX_ATTEMPTS = 30;

interface RaceResult {
  replies: Reply[];
  winnersBySeat: Map<number, number>;
}

/**
 * The seat lock as Redlock over three private redis-server masters, with three app instances
 * holding seats through the whole HTTP pipeline. The tests run in order and each leaves one more
 * master dead: all three up → one SIGKILLed mid-race → a majority gone.
 */
describe('seat lock on Redlock over independent masters (e2e)', () => {
  const masters: RedisMaster[] = [];
  let apps: NestFastifyApplication[] = [];
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    masters.push(...(await Promise.all([0, 1, 2].map(() => RedisMaster.start()))));
    apps = await startCluster(INSTANCES, {
      REDIS_LOCK_NODES: masters.map((master) => master.url).join(','),
    });
    await resetQueue(apps[0]);
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await stopMasters(masters);
  });

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn');
  });

  afterEach(async () => {
    warn.mockRestore();
    await assertBookingInvariants(apps[0]);
  });

  /** Every fan holds its seat, on instances in turn, retrying on 409 until the seat is won. */
  async function race(
    onReply: (count: number, winnersBySeat: Map<number, number>) => void = () => undefined,
  ): Promise<RaceResult> {
    const { concertId, schedule } = await createConcertWithSchedule(apps[0], {
      seatCount: SEATS_PER_RACE,
    });
    const all = await fansWithActiveTokens(apps[0], SEATS_PER_RACE * FANS_PER_SEAT, concertId);
    const replies: Reply[] = [];
    const winnersBySeat = new Map<number, number>(schedule.seats.map((seat) => [seat.id, 0]));
    await Promise.all(
      schedule.seats.flatMap(({ id: seatId }, s) =>
        all.slice(s * FANS_PER_SEAT, (s + 1) * FANS_PER_SEAT).map(async (fan, f) => {
          const app = apps[(s + f) % apps.length];
          for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            const reply = await call(app, 'POST', '/reservations', {
              user: fan.userId,
              token: fan.token,
              body: { scheduleId: schedule.id, seatId },
            });
            replies.push(reply);
            onReply(replies.length, winnersBySeat);
            if (reply.status === 201) {
              winnersBySeat.set(seatId, winnersBySeat.get(seatId)! + 1);
              return;
            }
            if (reply.status !== 409 || winnersBySeat.get(seatId)! > 0) return;
            // Jitter, so the retries of one seat's contenders do not arrive in lockstep.
            await sleep(Math.random() * 20);
          }
        }),
      ),
    );
    return { replies, winnersBySeat };
  }

  /** Exactly one winner per seat, in the replies and in MySQL, and no answer but 201 or 409. */
  async function expectOneWinnerPerSeat({ replies, winnersBySeat }: RaceResult): Promise<void> {
    const counts = tally(replies);
    expect(Object.keys(counts).sort()).toEqual(['201', '409 SEAT_UNAVAILABLE']);
    expect(counts['201']).toBe(SEATS_PER_RACE);
    expect([...winnersBySeat.values()]).toEqual(Array(SEATS_PER_RACE).fill(1));
    const rows = await sql<{ seat_id: number; holds: number; seat_status: string }[]>(
      apps[0],
      `SELECT s.id AS seat_id, s.status AS seat_status,
              (SELECT COUNT(*) FROM reservations r WHERE r.seat_id = s.id) AS holds
         FROM seats s WHERE s.id IN (?) ORDER BY s.id`,
      [[...winnersBySeat.keys()]],
    );
    expect(rows.map((row) => [Number(row.holds), row.seat_status])).toEqual(
      Array(SEATS_PER_RACE).fill([1, 'HELD']),
    );
  }

  it('should take the seat lock on every lock master and not on the main Redis', async () => {
    const lock = apps[0].get(DistributedLock);
    expect(lock).toBeInstanceOf(RedlockDistributedLock);
    const prefix = apps[0].get(Redis).options.keyPrefix ?? '';
    const probes = masters.map((master) => new Redis(master.url, { lazyConnect: true }));
    try {
      const seen = await lock.withLock('lock:seat:probe', 5_000, () =>
        Promise.all([
          ...probes.map((probe) => probe.exists(`${prefix}mutex:lock:seat:probe`)),
          apps[0].get(Redis).exists('mutex:lock:seat:probe'),
        ]),
      );
      expect(seen).toEqual([1, 1, 1, 0]);
      await expect(
        Promise.all(probes.map((probe) => probe.exists(`${prefix}mutex:lock:seat:probe`))),
      ).resolves.toEqual([0, 0, 0]);
    } finally {
      probes.forEach((probe) => probe.disconnect());
    }
  });

  it('should report all three lock masters connected and a quorum of two', async () => {
    for (const app of apps) {
      expect(await metricValue(app, 'seat_lock_nodes_ready')).toBe(3);
      expect(await metricValue(app, 'seat_lock_quorum')).toBe(2);
    }
  });

  it('should keep exactly one winner per seat, with only 409s, when a lock master is SIGKILLed mid-race', async () => {
    let killing: Promise<void> | undefined;
    let undecidedAtKill = 0;
    let repliesAtKill = 0;
    const result = await race((count, winnersBySeat) => {
      // A few answers are in and every other taker is in flight: the crash lands mid-race, with
      // at least half the seats still contended.
      if (count !== SEATS_PER_RACE / 2) return;
      undecidedAtKill = [...winnersBySeat.values()].filter((winners) => winners === 0).length;
      repliesAtKill = count;
      killing = masters[0].kill();
    });
    await killing;
    expect(masters[0].running).toBe(false);
    expect(undecidedAtKill).toBeGreaterThanOrEqual(SEATS_PER_RACE / 2);
    expect(result.replies.length - repliesAtKill).toBeGreaterThan(
      (SEATS_PER_RACE * FANS_PER_SEAT) / 2,
    );
    await expectOneWinnerPerSeat(result);

    // One master of three down is not an outage: a race run entirely without it still locks.
    await expectOneWinnerPerSeat(await race());
    const lock = apps[1].get(DistributedLock);
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const first = lock.withLock('lock:seat:quorum', 5_000, () => {
      holding();
      return new Promise<void>((r) => (release = r));
    });
    await held;
    await expect(
      apps[2].get(DistributedLock).withLock('lock:seat:quorum', 5_000, () => Promise.resolve()),
    ).rejects.toBeInstanceOf(LockBusyError);
    release();
    await first;
    expect(warn.mock.calls.flat().join('\n')).not.toMatch(/quorum unreachable/);
    for (const app of apps) {
      await eventually(async () => expect(await metricValue(app, 'seat_lock_nodes_ready')).toBe(2));
      expect(await metricValue(app, 'seat_lock_failed_open_total')).toBe(0);
    }
  });

  it('should hold on the database fence with exactly one winner per seat when a majority of lock masters is down', async () => {
    await masters[1].kill();
    const result = await race();
    await expectOneWinnerPerSeat(result);
    // The lock could not be decided, so every taker reached MySQL and the fence decided.
    expect(warn.mock.calls.flat().join('\n')).toMatch(/quorum unreachable/);
    const failedOpen = await Promise.all(
      apps.map((app) => metricValue(app, 'seat_lock_failed_open_total')),
    );
    expect(failedOpen.reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
    await eventually(async () =>
      expect(await metricValue(apps[0], 'seat_lock_nodes_ready')).toBe(1),
    );
    // Readiness does not hang on the lock masters: they are not one of its checks.
    const ready = await apps[0].inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
  });

  it('should close its connections to the lock masters on shutdown', async () => {
    const probe = new Redis(masters[2].url);
    const connections = async () =>
      String(await probe.client('LIST'))
        .trim()
        .split('\n').length;
    try {
      const before = await connections();
      const extra = await startApp({ REDIS_LOCK_NODES: masters.map((m) => m.url).join(',') });
      await eventually(async () => expect(await connections()).toBe(before + 1));
      await extra.close();
      await eventually(async () => expect(await connections()).toBe(before));
    } finally {
      probe.disconnect();
    }
  });
});
