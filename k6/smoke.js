// Smoke test: one user through the whole flow, with the contract's error answers on the way.
// A failed check fails the run (threshold checks rate == 100%). Run it after every deploy:
//
//   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_API_KEY=change-me-admin-key k6/smoke.js
//
// Needs the admission job running (QUEUE_ADMIT_PER_SECOND > 0) so the token turns ACTIVE.
import { check, fail, group } from 'k6';
import * as api from './lib/api.js';

export const options = {
  vus: 1,
  iterations: 1,
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    'http_req_duration{name:GET /queue/status}': ['p(95)<200'],
  },
};

const PRICE = 50000;

export function setup() {
  const concert = api.createConcert(`k6 smoke ${Date.now()}`);
  const schedule = api.createOpenSchedule(concert.id, { seatCount: 10, price: PRICE });
  return { concertId: concert.id, scheduleId: schedule.id };
}

export default function smoke({ concertId, scheduleId }) {
  const user = api.createUser('k6 smoke user');
  if (!user) fail('could not create a user');

  group('cash', () => {
    const charged = api.charge(user.id, 2 * PRICE, `smoke-charge-${user.id}`);
    check(charged, {
      'charge: 200': (r) => r.status === 200,
      'charge: balance after': (r) => api.json(r).balance === 2 * PRICE,
    });
    api.checkProblem(api.charge(user.id, 0), 400, 'VALIDATION_FAILED', 'charge 0');
  });

  let token;
  group('queue', () => {
    api.checkProblem(
      api.queueStatus('not-a-token'),
      401,
      'QUEUE_TOKEN_INVALID',
      'status with unknown token',
    );
    const first = api.issueToken(user.id);
    const again = api.issueToken(user.id);
    check(again, {
      'issue again: same token back': (r) =>
        r.status === 200 && api.json(r).token === api.json(first).token,
    });
    const entered = api.enterQueue(user.id, 60);
    if (!entered) fail('token never became ACTIVE: is the admission job running?');
    token = entered.token;
  });

  let seatIds;
  group('catalogue', () => {
    const list = api.schedules(token, concertId);
    check(list, {
      'schedules: 200': (r) => r.status === 200,
      'schedules: ours is open': (r) => api.json(r).some((s) => s.id === scheduleId),
    });
    api.checkProblem(api.schedules(token, 999999999), 404, 'CONCERT_NOT_FOUND', 'unknown concert');
    const seatList = api.seats(token, concertId, scheduleId);
    check(seatList, {
      'seats: 200': (r) => r.status === 200,
      'seats: 10, all AVAILABLE': (r) =>
        api.json(r).length === 10 && api.json(r).every((s) => s.status === 'AVAILABLE'),
    });
    seatIds = api.json(seatList).map((s) => s.id);
  });

  let held;
  group('holds', () => {
    const first = api.hold(token, scheduleId, seatIds[0]);
    check(first, {
      'hold: 201 HELD': (r) => r.status === 201 && api.json(r).status === 'HELD',
    });
    held = api.json(first);
    api.checkProblem(
      api.hold(token, scheduleId, seatIds[0]),
      409,
      'SEAT_UNAVAILABLE',
      'hold a held seat',
    );
    const second = api.hold(token, scheduleId, seatIds[1]);
    const cancelled = api.cancel(token, api.json(second).id);
    check(cancelled, {
      'cancel: 200 CANCELLED': (r) => r.status === 200 && api.json(r).status === 'CANCELLED',
    });
    api.checkProblem(
      api.cancel(token, api.json(second).id),
      409,
      'RESERVATION_NOT_HELD',
      'cancel twice',
    );
  });

  group('payment', () => {
    const key = `smoke-pay-${user.id}`;
    const paid = api.pay(token, [held.id], key);
    check(paid, {
      'pay: 201 COMPLETED': (r) => r.status === 201 && api.json(r).status === 'COMPLETED',
      'pay: amount is the price': (r) => api.json(r).amount === PRICE,
    });
    // The payment expired the token, but a replay with the same key still answers.
    const replay = api.pay(token, [held.id], key);
    check(replay, {
      'pay replay: same payment': (r) => r.status === 201 && api.json(r).id === api.json(paid).id,
    });
    api.checkProblem(
      api.seats(token, concertId, scheduleId),
      401,
      'QUEUE_TOKEN_INVALID',
      'token after payment',
    );
    check(api.balance(user.id), {
      'balance: debited once': (r) => r.status === 200 && api.json(r).balance === PRICE,
    });
    check(api.cashHistory(user.id), {
      'history: PAYMENT then CHARGE': (r) =>
        r.status === 200 &&
        api.json(r).items[0].type === 'PAYMENT' &&
        Math.abs(api.json(r).items[0].amount) === PRICE &&
        api.json(r).items[0].balanceAfter === PRICE &&
        api.json(r).items[1].type === 'CHARGE',
    });
    check(api.payments(user.id), {
      'payments: one': (r) => r.status === 200 && api.list(r).length === 1,
    });
  });
}
