// Smoke test: one user through the whole flow, with the contract's error answers on the way.
// A failed check fails the run (threshold checks rate == 100%). Run it after every deploy:
//
//   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_API_KEY=... k6/smoke.js
//
// The user signs up and logs in through the API (add -e AUTH_JWT_SECRET=... to also check that a
// token signed with the shared secret is accepted). Needs the admission job running
// (QUEUE_ADMIT_PER_SECOND > 0) so the queue token turns ACTIVE.
import { check, fail, group, sleep } from 'k6';
import * as api from './lib/api.js';
import { mintToken, newRunId, SELF_SIGNING } from './lib/auth.js';

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
// Not a user: a well-formed id that no caller owns.
const SOMEONE_ELSE = '00000000-0000-4000-8000-0000000000ff';

export function setup() {
  const concert = api.createConcert(`k6 smoke ${Date.now()}`);
  const schedule = api.createOpenSchedule(concert.id, { seatCount: 10, price: PRICE });
  return { concertId: concert.id, scheduleId: schedule.id, runId: newRunId() };
}

function checkAuthProblem(response, label) {
  return check(response, {
    [`${label}: 401 AUTH_TOKEN_INVALID`]: (r) =>
      r.status === 401 && api.codeOf(r) === 'AUTH_TOKEN_INVALID',
    [`${label}: WWW-Authenticate Bearer`]: (r) =>
      String(r.headers['Www-Authenticate'] || '').startsWith('Bearer'),
  });
}

export default function smoke({ concertId, scheduleId, runId }) {
  const email = api.userEmail(runId, 'smoke');
  let user;
  let auth;

  group('accounts', () => {
    const created = api.signUp('k6 smoke user', email);
    check(created, {
      'sign up: 201': (r) => r.status === 201,
      'sign up: id, name, email, no password': (r) => {
        const b = api.json(r);
        return b && typeof b.id === 'string' && b.email === email && !('password' in b);
      },
    });
    user = api.json(created);
    if (!user || !user.id) fail('could not sign up');
    api.checkProblem(
      api.signUp('k6 smoke twin', email.toUpperCase()),
      409,
      'EMAIL_TAKEN',
      'sign up with a taken email (other case)',
    );
    api.checkProblem(
      api.login(email, 'not-the-password'),
      401,
      'CREDENTIALS_INVALID',
      'log in with a wrong password',
    );
    const loggedIn = api.login(email);
    check(loggedIn, {
      'log in: 200 Bearer': (r) => r.status === 200 && api.json(r).tokenType === 'Bearer',
      'log in: expiresIn': (r) => Number.isInteger(api.json(r).expiresIn),
    });
    auth = api.json(loggedIn).accessToken;
    if (!auth) fail('could not log in');

    check(api.me(auth), {
      'me: 200, the caller': (r) => r.status === 200 && api.json(r).id === user.id,
    });
    check(api.getUser(auth, user.id), { 'own id: 200': (r) => r.status === 200 });
    api.checkProblem(api.getUser(auth, SOMEONE_ELSE), 404, 'USER_NOT_FOUND', "someone else's id");
    checkAuthProblem(api.me(''), 'no bearer');
    checkAuthProblem(api.me(`${auth.slice(0, -2)}xx`), 'bad signature');
    if (SELF_SIGNING) {
      check(api.me(mintToken(user.id)), {
        'self-signed token: accepted': (r) => r.status === 200 && api.json(r).id === user.id,
      });
    }
  });

  group('cash', () => {
    const charged = api.charge(auth, 2 * PRICE, `smoke-charge-${user.id}`);
    check(charged, {
      'charge: 200': (r) => r.status === 200,
      'charge: balance after': (r) => api.json(r).balance === 2 * PRICE,
    });
    api.checkProblem(api.charge(auth, 0), 400, 'VALIDATION_FAILED', 'charge 0');
    checkAuthProblem(api.charge('', PRICE), 'charge without bearer');
  });

  let token;
  group('queue', () => {
    api.checkProblem(
      api.queueStatus('not-a-token'),
      401,
      'QUEUE_TOKEN_INVALID',
      'status with unknown token',
    );
    checkAuthProblem(api.issueToken('', concertId), 'issue without bearer');
    api.checkProblem(
      api.issueToken(auth, 999999999),
      404,
      'CONCERT_NOT_FOUND',
      'issue for an unknown concert',
    );
    const first = api.issueToken(auth, concertId);
    check(first, {
      'issue: 201, pollAfterSeconds 1..60 = Retry-After': (r) =>
        r.status === 201 && api.isValidStatusAnswer(r, concertId),
    });
    const again = api.issueToken(auth, concertId);
    check(again, {
      'issue again: same token back': (r) =>
        r.status === 200 && api.json(r).token === api.json(first).token,
    });
    // A waiting client asks again only when told: after the answer's pollAfterSeconds (an
    // ACTIVE one has nothing to wait for, and its hint can be a minute).
    if (api.json(again).status === 'WAITING') sleep(api.pollAfterSeconds(again));
    check(api.queueStatus(api.json(first).token), {
      'status: 200, same shape (position may be null)': (r) =>
        r.status === 200 && api.isValidStatusAnswer(r, concertId),
    });
    const entered = api.enterQueue(auth, concertId, 60);
    if (!entered) fail('token never became ACTIVE: is the admission job running?');
    token = entered.token;
  });

  let seatIds;
  group('catalogue', () => {
    checkAuthProblem(api.schedules('', token, concertId), 'schedules without bearer');
    const list = api.schedules(auth, token, concertId);
    check(list, {
      'schedules: 200': (r) => r.status === 200,
      'schedules: ours is open': (r) => api.json(r).some((s) => s.id === scheduleId),
    });
    const seatList = api.seats(auth, token, concertId, scheduleId);
    check(seatList, {
      'seats: 200': (r) => r.status === 200,
      'seats: 10, all AVAILABLE': (r) =>
        api.json(r).length === 10 && api.json(r).every((s) => s.status === 'AVAILABLE'),
    });
    seatIds = api.json(seatList).map((s) => s.id);
  });

  let held;
  group('holds', () => {
    const first = api.hold(auth, token, scheduleId, seatIds[0]);
    check(first, {
      'hold: 201 HELD': (r) => r.status === 201 && api.json(r).status === 'HELD',
      'hold: mine': (r) => api.json(r).userId === user.id,
    });
    held = api.json(first);
    api.checkProblem(
      api.hold(auth, token, scheduleId, seatIds[0]),
      409,
      'SEAT_UNAVAILABLE',
      'hold a held seat',
    );
    const second = api.hold(auth, token, scheduleId, seatIds[1]);
    const cancelled = api.cancel(auth, token, api.json(second).id);
    check(cancelled, {
      'cancel: 200 CANCELLED': (r) => r.status === 200 && api.json(r).status === 'CANCELLED',
    });
    api.checkProblem(
      api.cancel(auth, token, api.json(second).id),
      409,
      'RESERVATION_NOT_HELD',
      'cancel twice',
    );
  });

  group('payment', () => {
    const key = `smoke-pay-${user.id}`;
    const paid = api.pay(auth, token, [held.id], key);
    check(paid, {
      'pay: 201 COMPLETED': (r) => r.status === 201 && api.json(r).status === 'COMPLETED',
      'pay: amount is the price': (r) => api.json(r).amount === PRICE,
    });
    // The payment expired the token, but a replay with the same key still answers.
    const replay = api.pay(auth, token, [held.id], key);
    check(replay, {
      'pay replay: same payment': (r) => r.status === 201 && api.json(r).id === api.json(paid).id,
    });
    api.checkProblem(
      api.seats(auth, token, concertId, scheduleId),
      401,
      'QUEUE_TOKEN_INVALID',
      'token after payment',
    );
    check(api.balance(auth), {
      'balance: debited once': (r) => r.status === 200 && api.json(r).balance === PRICE,
    });
    check(api.cashHistory(auth), {
      'history: PAYMENT then CHARGE': (r) =>
        r.status === 200 &&
        api.json(r).items[0].type === 'PAYMENT' &&
        Math.abs(api.json(r).items[0].amount) === PRICE &&
        api.json(r).items[0].balanceAfter === PRICE &&
        api.json(r).items[1].type === 'CHARGE',
    });
    check(api.payments(auth), {
      'payments: one': (r) => r.status === 200 && api.list(r).length === 1,
    });
  });
}
