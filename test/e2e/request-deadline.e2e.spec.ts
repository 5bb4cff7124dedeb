import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createConnection, Connection, RowDataPacket } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { createConcert } from '../factories/catalogue.factory';
import { http, startApp } from '../support/app';
import { authHeader } from '../support/auth';
import { assertCashInvariants } from '../support/cash-invariants';
import { eventually } from '../support/eventually';
import { startDependencyProxies, TcpProxy } from '../support/tcp-proxy';
import { signedUpUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

const DEADLINE_MS = 2_000;
// Below ioredis' own command timeout (2 s), so a Redis answer on time shows the deadline at work.
const REDIS_DEADLINE_MS = 1_500;
/** How long a stall lasts: well past the deadline, so a late commit would have time to land. */
const STALL_MS = 5_000;

/**
 * The request deadline (REQUEST_DEADLINE_MS, ADR 0013) against dependencies that stall: TCP
 * proxies that stop forwarding without closing anything, as a frozen network path or a paused
 * server does. The answer is a 503 within the deadline plus a second, and what the stalled
 * request sent never takes effect, checked on a direct connection after the stall ends.
 */
describe('request deadline under stalled dependencies (e2e)', () => {
  let app: NestFastifyApplication;
  let redisApp: NestFastifyApplication;
  let mysqlProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let direct: Connection;

  beforeAll(async () => {
    const proxies = await startDependencyProxies();
    ({ mysql: mysqlProxy, redis: redisProxy } = proxies);
    // One after the other: startApp sets process.env for the app it builds.
    app = await startApp({ ...proxies.env, REQUEST_DEADLINE_MS: String(DEADLINE_MS) });
    redisApp = await startApp({ ...proxies.env, REQUEST_DEADLINE_MS: String(REDIS_DEADLINE_MS) });
    // Around the proxies: what the server really holds, whatever the app's connections see.
    direct = await createConnection({
      host: process.env.DB_HOST,
      port: Number(process.env.DB_PORT),
      user: process.env.DB_USER,
      password: process.env.DB_PASSWORD,
      database: process.env.DB_NAME,
    });
  });

  afterEach(async () => {
    if (mysqlProxy.isStalled) await mysqlProxy.resume();
    if (redisProxy.isStalled) await redisProxy.resume();
  });

  afterAll(async () => {
    await Promise.all([app?.close(), redisApp?.close()]);
    await direct?.end();
    await Promise.all([mysqlProxy.cut(), redisProxy.cut()]);
  });

  /** Transactions open in this file's database, as the server sees them (past the proxy). */
  async function openTransactions(): Promise<number> {
    const [open] = await direct.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS open FROM information_schema.innodb_trx t
         JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
        WHERE p.db = ?`,
      [process.env.DB_NAME],
    );
    return Number(open[0].open);
  }

  async function ledgerOf(userId: string) {
    const [[wallet]] = await direct.query<RowDataPacket[]>(
      'SELECT balance FROM cash_wallets WHERE user_id = ?',
      [userId],
    );
    const [[history]] = await direct.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS entries FROM cash_history WHERE user_id = ?',
      [userId],
    );
    const [[events]] = await direct.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS charged FROM outbox_events WHERE type = 'cash.charged' AND subject LIKE ?`,
      [`%${userId}%`],
    );
    const [[keys]] = await direct.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS stored FROM idempotency_keys WHERE user_id = ?',
      [userId],
    );
    return {
      balance: Number(wallet.balance),
      entries: Number(history.entries),
      events: Number(events.charged),
      keys: Number(keys.stored),
    };
  }

  const charge = async (userId: string, amount: number, key: string) =>
    request(http(app))
      .post('/users/me/cash/charges')
      .set(await authHeader(userId))
      .set('Idempotency-Key', key)
      .send({ amount });

  it('should answer a charge whose COMMIT stalls with 503 in time and never commit it', async () => {
    const user = await signedUpUser(app);
    await authHeader(user.id);
    const before = await ledgerOf(user.id);

    // The charge's statements all run; its COMMIT is the first packet the proxy holds back.
    mysqlProxy.stallOn(/COMMIT$/);
    const started = Date.now();
    const response = await charge(user.id, 7_000, 'stalled-commit');
    const answeredAfter = Date.now() - started;

    expect(mysqlProxy.isStalled).toBe(true);
    expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    expect(response.headers['retry-after']).toBeDefined();
    expect(answeredAfter).toBeLessThan(DEADLINE_MS + 1_000);
    expect(answeredAfter).toBeGreaterThanOrEqual(DEADLINE_MS - 100);

    // Meanwhile the server holds the uncommitted charge; it must roll back, never commit.
    await sleep(Math.max(0, STALL_MS - (Date.now() - started)));
    await mysqlProxy.resume();
    // Once no transaction of this database is open, the held charge can never commit any more.
    await eventually(async () => expect(await openTransactions()).toBe(0));
    await expect(ledgerOf(user.id)).resolves.toEqual(before);

    // Recovered: the same key now charges, exactly once.
    const retry = await eventually(async () => {
      const again = await charge(user.id, 7_000, 'stalled-commit');
      expect(again.status).toBe(200);
      return again;
    });
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    await expect(ledgerOf(user.id)).resolves.toEqual({
      balance: before.balance + 7_000,
      entries: before.entries + 1,
      events: before.events + 1,
      keys: before.keys + 1,
    });
    await assertCashInvariants(app);
  });

  it('should answer a charge stalled mid-transaction with 503 in time and leave no trace', async () => {
    const user = await signedUpUser(app);
    await authHeader(user.id);
    const before = await ledgerOf(user.id);

    // Stall in the middle of the charge's transaction: the key's row is already inserted on the
    // server (locked, uncommitted), the wallet's UPDATE is held on the way.
    mysqlProxy.stallOn(/UPDATE cash_wallets/);
    const started = Date.now();
    const response = await charge(user.id, 5_000, 'stalled-update');
    const answeredAfter = Date.now() - started;

    expect(mysqlProxy.isStalled).toBe(true);
    expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
    expect(response.headers['retry-after']).toBeDefined();
    expect(answeredAfter).toBeLessThan(DEADLINE_MS + 1_000);

    await sleep(Math.max(0, STALL_MS - (Date.now() - started)));
    await mysqlProxy.resume();
    await eventually(async () => expect(await openTransactions()).toBe(0));
    await expect(ledgerOf(user.id)).resolves.toEqual(before);
    await eventually(async () => {
      expect((await charge(user.id, 5_000, 'stalled-update')).status).toBe(200);
    });
    await expect(ledgerOf(user.id)).resolves.toMatchObject({ balance: before.balance + 5_000 });
  });

  it('should answer 503 within the deadline when MySQL stalls before the request', async () => {
    const user = await signedUpUser(app);
    await authHeader(user.id);
    const before = await ledgerOf(user.id);

    mysqlProxy.stall();
    const started = Date.now();
    const responses = await Promise.all([
      charge(user.id, 1_000, 'stalled-before'),
      request(http(app))
        .get('/users/me/cash')
        .set(await authHeader(user.id)),
    ]);
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 1_000);
    for (const response of responses) {
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
    }

    await sleep(STALL_MS - (Date.now() - started));
    await mysqlProxy.resume();
    await sleep(500);
    await expect(ledgerOf(user.id)).resolves.toEqual(before);
  });

  it('should answer a Redis-backed status poll with 503 within the deadline when Redis stalls', async () => {
    const concert = await createConcert(redisApp);
    const user = await signedUpUser(redisApp);
    const issued = await request(http(redisApp))
      .post('/queue/tokens')
      .set(await authHeader(user.id))
      .send({ concertId: concert.id })
      .expect(201);
    const token = (issued.body as { token: string }).token;
    const poll = () => request(http(redisApp)).get('/queue/status').set('Queue-Token', token);
    await poll().expect(200);

    redisProxy.stall();
    const started = Date.now();
    const stalled = await poll();
    const answeredAfter = Date.now() - started;
    expectProblem(stalled, 503, 'SERVICE_UNAVAILABLE');
    expect(stalled.headers['retry-after']).toBeDefined();
    expect(answeredAfter).toBeLessThan(REDIS_DEADLINE_MS + 1_000);
    // The deadline, not ioredis' 2 s command timeout, is what ended it.
    expect(answeredAfter).toBeLessThan(2_000);

    await redisProxy.resume();
    await eventually(() => poll().expect(200));
  });
});
