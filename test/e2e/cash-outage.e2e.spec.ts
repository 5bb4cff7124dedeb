import request from 'supertest';
import { http } from '../support/app';
import { assertCashInvariants, expectWallet } from '../support/cash-invariants';
import { AppBehindProxies, startAppBehindProxies } from '../support/tcp-proxy';
import { eventually } from '../support/eventually';
import { signedInUser } from '../factories/user.factory';
import { expectProblem } from '../support/assertions';

/**
 * Cash with a dependency down, staged through TCP proxies. Redis only carries the idempotency
 * "in progress" marker, so charges keep working without it and MySQL's unique key still allows
 * one effect per key. Without MySQL nothing can be charged: 503, and nothing is remembered.
 */
describe('cash with a dependency down (e2e)', () => {
  let stage: AppBehindProxies;

  beforeAll(async () => {
    stage = await startAppBehindProxies();
  });

  afterEach(async () => {
    await assertCashInvariants(stage.app);
  });

  afterAll(async () => {
    await stage?.stop();
  });

  /** Users' `Authorization` values, minted before any outage (minting needs no dependency). */
  const bearers = new Map<string, string>();

  async function signUp(): Promise<string> {
    const { id, authorization } = await signedInUser(stage.app);
    bearers.set(id, authorization);
    return id;
  }

  const get = (userId: string, path: string) =>
    request(http(stage.app))
      .get(path)
      .set('Authorization', bearers.get(userId) ?? '');

  const charge = (userId: string, amount: number, key: string) =>
    request(http(stage.app))
      .post(`/users/${userId}/cash/charges`)
      .set('Authorization', bearers.get(userId) ?? '')
      .set('Idempotency-Key', key)
      .send({ amount });

  it('should charge once per key and replay when Redis is down', async () => {
    const id = await signUp();
    await stage.redis.cut();
    try {
      const first = await charge(id, 3_000, 'no-redis').expect(200);
      const again = await charge(id, 3_000, 'no-redis').expect(200);
      const racing = await Promise.all(
        Array.from({ length: 10 }, () => charge(id, 500, 'no-redis-race')),
      );

      expect(first.body).toEqual({ userId: id, balance: 3_000 });
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      // Without the marker there is no fast 409: duplicates wait for the first and replay it.
      expect(racing.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
      expect(racing.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      await expectWallet(stage.app, id, { balance: 3_500, entries: 2 });
    } finally {
      await stage.redis.restore();
    }
  });

  it('should answer 503 and remember nothing while MySQL is down', async () => {
    const id = await signUp();
    await stage.mysql.cut();
    let responses: request.Response[];
    try {
      responses = [
        await get(id, `/users/${id}/cash`),
        await charge(id, 1_000, 'no-mysql'),
        await get(id, `/users/${id}/cash/history`),
      ];
    } finally {
      await stage.mysql.restore();
    }
    for (const response of responses) {
      expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.headers['retry-after']).toBeDefined();
    }

    // Back up: the key was never stored and its marker was released, so the retry charges.
    await eventually(async () => {
      await get(id, `/users/${id}/cash`).expect(200);
    });
    const retry = await charge(id, 1_000, 'no-mysql').expect(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.body).toEqual({ userId: id, balance: 1_000 });
  });
});
