import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { WaitingRoomService } from '../../src/modules/queue/domain/waiting-room.service';
import { QueueService } from '../../src/modules/queue/domain/queue.service';
import { roomKeys } from '../../src/modules/queue/queue.constants';
import { createConcert } from '../factories/catalogue.factory';
import { ADMIN_KEY } from '../support/app';
import { call, Reply, startCluster } from '../support/booking';
import { eventually } from '../support/eventually';
import { resetQueue, runAdmission } from '../support/queue';
import { storedUsers } from '../factories/user.factory';

interface Ticket {
  token: string;
  concertId: number;
  status: 'WAITING' | 'ACTIVE';
  position: number | null;
  pollAfterSeconds: number;
  admissionStartsAt: string | null;
}

const admin = { 'x-admin-key': ADMIN_KEY };

/**
 * Waiting rooms against real Redis and MySQL with three app instances: per-room caps and rates,
 * the scheduled start with its one shuffle, FIFO order, and settings reaching every instance.
 */
describe('waiting rooms (e2e)', () => {
  let apps: NestFastifyApplication[];
  const redis = () => apps[0].get(Redis);

  beforeEach(async () => {
    apps = await startCluster(3, {
      QUEUE_MAX_ACTIVE_USERS: '1000',
      QUEUE_ADMIT_PER_SECOND: '1000',
    });
    await resetQueue(apps[0]);
  });

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  async function configure(concertId: number, settings: Record<string, unknown>): Promise<Reply> {
    const reply = await call(apps[0], 'PUT', `/admin/concerts/${concertId}/waiting-room`, {
      headers: admin,
      body: settings,
    });
    expect(reply.status).toBe(200);
    // Every instance runs with the new settings from here on (they refresh within ~1 s anyway).
    await Promise.all(apps.map((app) => app.get(WaitingRoomService).refresh()));
    return reply;
  }

  async function join(app: NestFastifyApplication, userId: string, concertId: number) {
    const reply = await call(app, 'POST', '/queue/tokens', { user: userId, body: { concertId } });
    if (reply.status !== 201 && reply.status !== 200) {
      throw new Error(`join answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
    return reply.body as Ticket;
  }

  /** Waits, on the Redis clock the rooms go by, until `instant` has passed. */
  function untilPast(instant: Date): Promise<void> {
    return eventually(
      async () => {
        const [seconds, micros] = await redis().time();
        expect(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)).toBeGreaterThan(
          instant.getTime(),
        );
      },
      15_000,
      20,
    );
  }

  async function poll(app: NestFastifyApplication, token: string): Promise<Ticket> {
    const reply = await call(app, 'GET', '/queue/status', { token });
    expect(reply.status).toBe(200);
    return reply.body as Ticket;
  }

  it("should keep each room's ACTIVE count within its own cap and its admissions within its own rate", async () => {
    const rooms = [
      { id: (await createConcert(apps[0])).id, maxActiveUsers: 5, admitPerSecond: 3 },
      { id: (await createConcert(apps[0])).id, maxActiveUsers: 12, admitPerSecond: 50 },
    ];
    for (const room of rooms) {
      await configure(room.id, {
        maxActiveUsers: room.maxActiveUsers,
        admitPerSecond: room.admitPerSecond,
      });
    }
    const users = await storedUsers(apps[0], 60);
    for (const [i, userId] of users.entries()) {
      await join(apps[i % 3], userId, rooms[i % 2].id);
    }

    const peaks = rooms.map(() => 0);
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      // All three instances run the job at the same moment, as they do in production.
      await Promise.all(apps.map((app) => runAdmission(app)));
      for (const [i, room] of rooms.entries()) {
        const keys = roomKeys(room.id);
        const now = Number((await redis().time())[0]) * 1000;
        const active = await redis().zrangebyscore(keys.active, now, '+inf');
        peaks[i] = Math.max(peaks[i], active.length);
        expect(active.length).toBeLessThanOrEqual(room.maxActiveUsers);
        // A full room frees a slot (a payment), so admission keeps pressing against the cap.
        if (active.length === room.maxActiveUsers) {
          await apps[1].get(QueueService).retireToken(active[0]);
        }
      }
      await sleep(100);
    }
    expect(peaks).toEqual(rooms.map((room) => room.maxActiveUsers));
    for (const room of rooms) {
      const log = await redis().zrange(roomKeys(room.id).admitted, 0, -1, 'WITHSCORES');
      const perSecond = new Map<number, number>();
      for (let i = 1; i < log.length; i += 2) {
        const second = Math.floor(Number(log[i]) / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      }
      expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(room.admitPerSecond);
      // The slow room was held to its rate: 3 a second over ~4 s is at most 15.
      if (room.admitPerSecond === 3) expect(log.length / 2).toBeLessThanOrEqual(15);
    }
  });

  it('should put everyone who joined before a RANDOM_AT_START start in one uniformly drawn order, then FIFO behind', async () => {
    const concertId = (await createConcert(apps[0])).id;
    // The start is set far ahead while 200 join (however long that takes on a busy box), then
    // brought forward: what was announced is what counts when the instant comes.
    let startsAt = new Date(Date.now() + 10 * 60_000);
    const settings = { order: 'RANDOM_AT_START', maxActiveUsers: 10 };
    await configure(concertId, { ...settings, admissionStartsAt: startsAt.toISOString() });
    const users = await storedUsers(apps[0], 203);

    // 200 join before the start across the three instances, in a known order.
    const early: Ticket[] = [];
    for (const [i, userId] of users.slice(0, 200).entries())
      early.push(await join(apps[i % 3], userId, concertId));
    expect(early.every((ticket) => ticket.position === null && ticket.status === 'WAITING')).toBe(
      true,
    );
    expect(early[0].admissionStartsAt).toBe(startsAt.toISOString());
    expect((await runAdmission(apps[0])).admitted).toBe(0); // nobody before the start
    expect(await redis().zcard(roomKeys(concertId).preQueue)).toBe(200);

    startsAt = new Date(Date.now() + 1000);
    await configure(concertId, { ...settings, admissionStartsAt: startsAt.toISOString() });
    expect(await redis().zcard(roomKeys(concertId).preQueue)).toBe(200);
    await untilPast(startsAt);
    // The start races: every instance's job and polls from all of them at once.
    const [runs, polled] = await Promise.all([
      Promise.all(apps.flatMap((app) => [runAdmission(app), runAdmission(app)])),
      Promise.all(early.map((ticket, i) => poll(apps[i % 3], ticket.token))),
    ]);
    const shuffles = runs.reduce((sum, run) => sum + run.started, 0);
    // Exactly one shuffle: the marker names this start and 200 entries, and the sequence moved
    // by 200 once (a second shuffle would have drawn 200 more).
    const marker = await redis().get(roomKeys(concertId).started);
    expect(marker).toBe(`${startsAt.getTime()}:200`);
    expect(shuffles).toBeLessThanOrEqual(1);
    expect(await redis().get(roomKeys(concertId).sequence)).toBe('200');
    expect(await redis().zcard(roomKeys(concertId).preQueue)).toBe(0);

    // Polls that ran before an admission see a place in line; re-read them all now.
    const after = await Promise.all(early.map((ticket) => poll(apps[0], ticket.token)));
    const admitted = after.filter((ticket) => ticket.status === 'ACTIVE').length;
    const waitingPositions = after
      .filter((ticket) => ticket.status === 'WAITING')
      .map((ticket) => ticket.position!)
      .sort((a, b) => a - b);
    expect(waitingPositions).toEqual(Array.from({ length: 200 - admitted }, (_, i) => i + 1));
    expect(polled.every((ticket) => ticket.position !== null || ticket.status === 'ACTIVE')).toBe(
      true,
    );

    // The drawn order is the line's order, and it is not the join order.
    const order = await redis().zrange(roomKeys(concertId).waiting, 0, -1);
    const joinOrder = early.map((ticket) => ticket.token).filter((token) => order.includes(token));
    expect(order).not.toEqual(joinOrder);

    // Later arrivals queue FIFO behind everyone drawn at the start.
    const late = [];
    for (const userId of users.slice(200)) late.push(await join(apps[1], userId, concertId));
    expect(late.map((ticket) => ticket.position)).toEqual([1, 2, 3].map((i) => 200 - admitted + i));
  });

  it('should put the pre-queue in line at once when the room stops being a random start', async () => {
    const concertId = (await createConcert(apps[0])).id;
    const startsAt = new Date(Date.now() + 60_000);
    await configure(concertId, {
      order: 'RANDOM_AT_START',
      admissionStartsAt: startsAt.toISOString(),
    });
    const users = await storedUsers(apps[0], 3);
    const tickets: Ticket[] = [];
    for (const userId of users) tickets.push(await join(apps[0], userId, concertId));
    expect(tickets.map((ticket) => ticket.position)).toEqual([null, null, null]);

    // The operator drops the random start: nobody may be left unranked in the pre-queue.
    await configure(concertId, { order: 'FIFO' });
    const polled = await Promise.all(tickets.map((ticket) => poll(apps[1], ticket.token)));
    expect(polled.map((ticket) => ticket.position).sort()).toEqual([1, 2, 3]);
    expect(await redis().zcard(roomKeys(concertId).preQueue)).toBe(0);
    expect((await runAdmission(apps[2])).admitted).toBe(3);
  });

  it('should keep the join order in a FIFO room and admit its head first', async () => {
    const concertId = (await createConcert(apps[0])).id;
    await configure(concertId, { order: 'FIFO', maxActiveUsers: 4 });
    const users = await storedUsers(apps[0], 30);
    const tickets: Ticket[] = [];
    for (const [i, userId] of users.entries())
      tickets.push(await join(apps[i % 3], userId, concertId));
    expect(tickets.map((ticket) => ticket.position)).toEqual(users.map((_, i) => i + 1));

    await Promise.all(apps.map((app) => runAdmission(app)));
    const states = await Promise.all(tickets.map((ticket) => poll(apps[2], ticket.token)));
    expect(states.map((state) => state.status)).toEqual(
      users.map((_, i) => (i < 4 ? 'ACTIVE' : 'WAITING')),
    );
    expect(states.slice(4).map((state) => state.position)).toEqual(
      users.slice(4).map((_, i) => i + 1),
    );
  });

  it('should export waiting, active and admissions per room, with a series per concert', async () => {
    const [big, small] = [(await createConcert(apps[0])).id, (await createConcert(apps[0])).id];
    await configure(small, { maxActiveUsers: 1 });
    const users = await storedUsers(apps[0], 6);
    for (const userId of users.slice(0, 4)) await join(apps[0], userId, big);
    for (const userId of users.slice(4)) await join(apps[1], userId, small);
    await Promise.all(apps.map((app) => runAdmission(app)));

    const raw = await Promise.all(
      apps.map((app) => app.inject({ method: 'GET', url: '/metrics' })),
    );
    const value = (text: string, metric: string, concertId: number) =>
      Number(
        new RegExp(`^${metric}\\{concert_id="${concertId}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN,
      );
    for (const { body } of raw) {
      expect(value(body, 'queue_room_active_users', big)).toBe(4);
      expect(value(body, 'queue_room_waiting_users', big)).toBe(0);
      expect(value(body, 'queue_room_active_users', small)).toBe(1);
      expect(value(body, 'queue_room_waiting_users', small)).toBe(1);
    }
    // Each admission is counted once, by the instance that made it.
    const admissions = (concertId: number) =>
      raw.reduce(
        (sum, { body }) => sum + (value(body, 'queue_room_admissions_total', concertId) || 0),
        0,
      );
    expect(admissions(big)).toBe(4);
    expect(admissions(small)).toBe(1);
  });

  it('should refuse joins before opensAt with 409 WAITING_ROOM_NOT_OPEN and admit nobody before admissionStartsAt', async () => {
    const concertId = (await createConcert(apps[0])).id;
    // Each phase has 2 s for a few calls, so a busy box cannot run a step past the next instant.
    const opensAt = new Date(Date.now() + 2000);
    const admissionStartsAt = new Date(Date.now() + 4000);
    await configure(concertId, {
      opensAt: opensAt.toISOString(),
      admissionStartsAt: admissionStartsAt.toISOString(),
    });
    const [early, onTime] = await storedUsers(apps[0], 2);

    const refused = await call(apps[1], 'POST', '/queue/tokens', {
      user: early,
      body: { concertId },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'WAITING_ROOM_NOT_OPEN' });
    expect(await redis().hlen(roomKeys(concertId).owners)).toBe(0);

    await untilPast(opensAt);
    const ticket = await join(apps[2], onTime, concertId);
    expect(ticket).toMatchObject({ status: 'WAITING', position: 1 });
    expect(ticket.pollAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((await runAdmission(apps[0])).admitted).toBe(0);
    expect((await poll(apps[0], ticket.token)).status).toBe('WAITING');

    await untilPast(admissionStartsAt);
    expect((await runAdmission(apps[1])).admitted).toBe(1);
    expect((await poll(apps[0], ticket.token)).status).toBe('ACTIVE');
  });

  it('should put a settings change in force on every instance within a second', async () => {
    const concertId = (await createConcert(apps[0])).id;
    // Every instance has seen the room (and cached its settings).
    for (const app of apps) {
      expect(
        (await call(app, 'GET', `/admin/concerts/${concertId}/waiting-room`, { headers: admin }))
          .body,
      ).toMatchObject({
        concertId,
        maxActiveUsers: 1000,
        order: 'FIFO',
      });
    }

    const saved = await call(apps[0], 'PUT', `/admin/concerts/${concertId}/waiting-room`, {
      headers: admin,
      body: { maxActiveUsers: 2, admitPerSecond: 7 },
    });
    const savedAt = Date.now();
    expect(saved.body).toEqual({
      concertId,
      maxActiveUsers: 2,
      admitPerSecond: 7,
      activeTtlSeconds: 600,
      waitingIdleSeconds: 120,
      opensAt: null,
      admissionStartsAt: null,
      order: 'FIFO',
    });

    const seenAt = await Promise.all(
      apps.map((app) =>
        eventually(
          async () => {
            const { body } = await call(app, 'GET', `/admin/concerts/${concertId}/waiting-room`, {
              headers: admin,
            });
            expect(body.maxActiveUsers).toBe(2);
            return Date.now();
          },
          5_000,
          20,
        ),
      ),
    );
    // Settings are re-read every 500 ms (SETTINGS_REFRESH_INTERVAL_MS): twice that is the bound.
    for (const at of seenAt) expect(at - savedAt).toBeLessThanOrEqual(1000);

    // And the new cap is what admission applies, on an instance that did not save it.
    const users = await storedUsers(apps[0], 4);
    for (const userId of users) await join(apps[2], userId, concertId);
    expect((await runAdmission(apps[2])).admitted).toBe(2);
    const stats = await call(apps[1], 'GET', `/admin/concerts/${concertId}/waiting-room`, {
      headers: admin,
    });
    expect(stats.body).toMatchObject({ waiting: 2, active: 2, admittedLastMinute: 2 });
  });
});
