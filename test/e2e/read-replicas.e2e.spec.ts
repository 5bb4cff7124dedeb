import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { performance } from 'node:perf_hooks';
import { TransactionHost } from '../../src/common/database/transaction';
import { createConcertWithSchedule } from '../factories/catalogue.factory';
import { storedUsers } from '../factories/user.factory';
import { startApp } from '../support/app';
import { call, charge, Reply } from '../support/booking';
import { eventually } from '../support/eventually';
import { activeTokenFor } from '../support/queue';
import { ReplicationPair, startReplicationPair } from '../setup/mariadb-replication';

/** Short, so "lag beyond the bound" is seen within seconds. */
const CATALOGUE_MAX_LAG_MS = 2_500;
/** Long, so the replica stays in while the read-your-writes journeys run against a stopped one. */
const HISTORY_MAX_LAG_MS = 60_000;

/**
 * Read replicas against a real MariaDB primary + GTID replica started for this file only. One
 * instance with a short lag bound serves the catalogue tests; two with a long one show a user's
 * own writes from either instance while the replica applies nothing.
 */
// The file's own bounds, whatever the project's: starting two servers and three apps takes a while.
jest.setTimeout(60_000);

describe('read replicas (e2e)', () => {
  let pair: ReplicationPair;
  let catalogueApp: NestFastifyApplication;
  let instances: NestFastifyApplication[];
  const database = process.env.DB_NAME ?? '';

  // Kept, so afterAll stops the servers even when beforeAll gave up while they were starting.
  let starting: Promise<ReplicationPair> | undefined;

  beforeAll(async () => {
    starting = startReplicationPair();
    pair = await starting;
    const env = (maxLagMs: number) => ({
      DB_HOST: pair.primary.host,
      DB_PORT: String(pair.primary.port),
      DB_USER: 'root',
      DB_PASSWORD: '',
      DB_SOCKET_PATH: '',
      DB_REPLICA_HOSTS: `${pair.replica.host}:${pair.replica.port}`,
      DB_REPLICA_MAX_LAG_MS: String(maxLagMs),
      QUEUE_MAX_ACTIVE_USERS: '100000',
      QUEUE_ADMIT_PER_SECOND: '100000',
    });
    // The first one migrates the private primary; the others find it done.
    catalogueApp = await startApp(env(CATALOGUE_MAX_LAG_MS));
    instances = await Promise.all([
      startApp(env(HISTORY_MAX_LAG_MS)),
      startApp(env(HISTORY_MAX_LAG_MS)),
    ]);
    await pair.caughtUp();
    await Promise.all([catalogueApp, ...instances].map((app) => replicaIsIn(app)));
  });

  afterAll(async () => {
    await Promise.all([catalogueApp, ...(instances ?? [])].map((app) => app?.close()));
    await (await starting?.catch(() => undefined))?.stop();
  });

  afterEach(async () => {
    // After the kill there is no replica left to restart.
    await pair?.startApplying().catch(() => undefined);
  });

  function replicaOf(app: NestFastifyApplication) {
    const [replica] = app.get(TransactionHost).replicaStatus();
    return replica;
  }

  function replicaIsIn(app: NestFastifyApplication, timeoutMs = 10_000) {
    return eventually(() => {
      expect(replicaOf(app)).toMatchObject({ reachable: true, usable: true });
      return Promise.resolve();
    }, timeoutMs);
  }

  async function metrics(app: NestFastifyApplication): Promise<string> {
    const reply = await app.inject({ method: 'GET', url: '/metrics' });
    return reply.body;
  }

  async function titles(app: NestFastifyApplication): Promise<Map<number, string>> {
    const reply = await call(app, 'GET', '/concerts');
    expect(reply.status).toBe(200);
    const concerts = reply.body as { id: number; title: string }[];
    return new Map(concerts.map((concert) => [concert.id, concert.title]));
  }

  it('should serve the catalogue from the replica while its lag is within the bound, and from the primary once it is beyond', async () => {
    const { concertId } = await createConcertWithSchedule(catalogueApp);
    await pair.caughtUp();
    await eventually(async () =>
      expect((await titles(catalogueApp)).get(concertId)).toBe('Test Concert'),
    );

    await pair.stopApplying();
    await pair.primary.sql(`UPDATE \`${database}\`.concerts SET title = 'Renamed' WHERE id = ?`, [
      concertId,
    ]);
    const changedAt = performance.now();

    // The replica has not applied the rename: the catalogue shows its value.
    expect((await titles(catalogueApp)).get(concertId)).toBe('Test Concert');
    expect(replicaOf(catalogueApp).usable).toBe(true);

    // Past the bound it is taken out and the primary answers, with the new value and no error.
    await eventually(
      async () => expect((await titles(catalogueApp)).get(concertId)).toBe('Renamed'),
      CATALOGUE_MAX_LAG_MS + 5_000,
      50,
    );
    const outAfterMs = performance.now() - changedAt;
    expect(replicaOf(catalogueApp)).toMatchObject({ reachable: true, usable: false });
    expect(replicaOf(catalogueApp).lagMs).toBeGreaterThan(CATALOGUE_MAX_LAG_MS);
    // Lag is measured from the first check after the write (every 500 ms): out between the
    // bound and the bound plus a check interval, give or take the loaded test machine (and the
    // few ms a check takes between noting its time and reading the primary's position).
    expect(outAfterMs).toBeGreaterThanOrEqual(CATALOGUE_MAX_LAG_MS - 100);
    expect(outAfterMs).toBeLessThan(CATALOGUE_MAX_LAG_MS + 2_500);

    const replica = `${pair.replica.host}:${pair.replica.port}`;
    expect(await metrics(catalogueApp)).toContain(`db_replica_usable{replica="${replica}"} 0`);

    // Caught up, it is back in.
    await pair.startApplying();
    await replicaIsIn(catalogueApp);
    expect((await titles(catalogueApp)).get(concertId)).toBe('Renamed');
    expect(await metrics(catalogueApp)).toContain(`db_replica_usable{replica="${replica}"} 1`);
  });

  it('should run replica reads made inside a transaction on that transaction, on the primary', async () => {
    const host = catalogueApp.get(TransactionHost);
    const { concertId } = await createConcertWithSchedule(catalogueApp);
    await pair.caughtUp();
    await replicaIsIn(catalogueApp);
    await pair.stopApplying();
    await pair.primary.sql(`UPDATE \`${database}\`.concerts SET title = 'Primary' WHERE id = ?`, [
      concertId,
    ]);
    const title = async (reads: 'readsMayLag' | 'readsUpToDate') => {
      const [row] = await host[reads].query<{ title: string }[]>(
        'SELECT title FROM concerts WHERE id = ?',
        [concertId],
      );
      return row.title;
    };

    expect(await title('readsMayLag')).toBe('Test Concert');
    await expect(host.withTransaction(() => title('readsMayLag'))).resolves.toBe('Primary');
    await expect(host.withTransaction(() => title('readsUpToDate'))).resolves.toBe('Primary');
    // Outside one, the up-to-date runner finds the replica behind and asks the primary.
    expect(await title('readsUpToDate')).toBe('Primary');
    expect(replicaOf(catalogueApp).usable).toBe(true);
  });

  it('should share the primary position read among up-to-date reads that arrive together', async () => {
    const [app] = instances;
    await replicaIsIn(app);
    // Its private position read, spied on from outside.
    const host = app.get<
      TransactionHost,
      { readPrimaryPosition(): Promise<string>; readsUpToDate: TransactionHost['readsUpToDate'] }
    >(TransactionHost);
    const original = host.readPrimaryPosition.bind(host);
    let forReads = 0;
    // The health check reads it too, on its own; only the reads' shared ones are counted.
    const spy = jest.spyOn(host, 'readPrimaryPosition').mockImplementation(() => {
      if (new Error().stack?.includes('sharedPrimaryPosition')) forReads++;
      return original();
    });
    try {
      const rows = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          host.readsUpToDate.query<{ n: number }[]>('SELECT ? AS n', [index]),
        ),
      );
      expect(rows.map(([row]) => Number(row.n))).toEqual(Array.from({ length: 50 }, (_, i) => i));
      // The first read starts one; the 49 that arrive while it is in flight share the next.
      expect(forReads).toBe(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('should serve a user history read from the replica when it has caught up', async () => {
    const [app] = instances;
    const [userId] = await storedUsers(app, 1, { wallets: true });
    await pair.caughtUp();
    // A balance only the replica has: a read that shows it was served there.
    await pair.writeOnReplicaOnly(
      `UPDATE \`${database}\`.cash_wallets SET balance = 777 WHERE user_id = ?`,
      [userId],
    );

    const reply = await call(app, 'GET', `/users/${userId}/cash`, { user: userId });

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ userId, balance: 777 });
    await pair.writeOnReplicaOnly(
      `UPDATE \`${database}\`.cash_wallets SET balance = 0 WHERE user_id = ?`,
      [userId],
    );
  });

  it("should show a user's own charge, hold and payment at once from either instance when the replica applies nothing", async () => {
    const [first, second] = instances;
    const { concertId, schedule } = await createConcertWithSchedule(first, {
      seatCount: 2,
      prices: [30_000, 40_000],
    });
    const [userId] = await storedUsers(first, 1, { wallets: true });
    const token = await activeTokenFor(first, userId, concertId);
    await pair.caughtUp();
    await pair.stopApplying();

    await charge(first, userId, 100_000);
    const held = await call(second, 'POST', '/reservations', {
      user: userId,
      token,
      body: { scheduleId: schedule.id, seatId: schedule.seats[0].id },
    });
    expect(held.status).toBe(201);
    const reservationId = (held.body as { id: number }).id;

    // Right after the hold, on both instances: the reservation is there, HELD.
    for (const app of instances) {
      const seen = await call(app, 'GET', `/reservations/${reservationId}`, {
        user: userId,
        token,
      });
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject({ id: reservationId, status: 'HELD' });
    }

    const paid = await call(first, 'POST', '/payments', {
      user: userId,
      token,
      body: { reservationIds: [reservationId] },
    });
    expect(paid.status).toBe(201);
    const paymentId = (paid.body as { id: number }).id;

    const reads = await Promise.all(
      instances.flatMap((app) => [
        call(app, 'GET', `/users/${userId}/cash`, { user: userId }),
        call(app, 'GET', `/users/${userId}/cash/history`, { user: userId }),
        call(app, 'GET', `/users/${userId}/payments`, { user: userId }),
        call(app, 'GET', `/payments/${paymentId}`, { user: userId }),
      ]),
    );
    for (const [balance, history, payments, payment] of chunks(reads, 4)) {
      expect(balance.body).toEqual({ userId, balance: 70_000 });
      expect(
        (history.body as { items: { type: string; amount: number }[] }).items.map((item) => [
          item.type,
          item.amount,
        ]),
      ).toEqual([
        ['PAYMENT', -30_000],
        ['CHARGE', 100_000],
      ]);
      expect((payments.body as { id: number }[]).map((one) => one.id)).toEqual([paymentId]);
      expect(payment.body).toMatchObject({ id: paymentId, status: 'COMPLETED', amount: 30_000 });
    }
    // All the while the replica stayed in, and it still had none of it.
    for (const app of instances) expect(replicaOf(app).usable).toBe(true);
    const [onReplica] = await pair.replica.sql<{ count: number }[]>(
      `SELECT COUNT(*) AS count FROM \`${database}\`.payments WHERE user_id = ?`,
      [userId],
    );
    expect(Number(onReplica.count)).toBe(0);
  });

  it('should answer every read from the primary, with no 5xx and within a bounded time, when the replica is killed', async () => {
    const [app] = instances;
    const [userId] = await storedUsers(app, 1, { wallets: true });
    await pair.caughtUp();
    await replicaIsIn(app);
    await replicaIsIn(catalogueApp);

    pair.killReplica();
    const started = performance.now();
    const replies: Reply[] = await Promise.all(
      [catalogueApp, ...instances].flatMap((target) => [
        call(target, 'GET', '/concerts'),
        call(target, 'GET', `/users/${userId}/cash`, { user: userId }),
        call(target, 'GET', `/users/${userId}/cash/history`, { user: userId }),
        call(target, 'GET', `/users/${userId}/payments`, { user: userId }),
      ]),
    );
    const tookMs = performance.now() - started;

    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
    // Connection refused is seen at once; a host that swallows packets costs the replica's
    // connection wait (1 s) at most.
    expect(tookMs).toBeLessThan(2_000);
    for (const target of [catalogueApp, ...instances]) {
      await eventually(() => {
        expect(replicaOf(target)).toMatchObject({ reachable: false, usable: false });
        return Promise.resolve();
      }, 5_000);
    }
    const again = await call(app, 'GET', `/users/${userId}/cash`, { user: userId });
    expect(again).toMatchObject({ status: 200, body: { userId, balance: 0 } });
  });
});

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    out.push(items.slice(start, start + size));
  return out;
}
