// Thin client for the public HTTP contract (docs/api-contract.md).
// Every request carries a `name` tag so k6 groups metrics per endpoint, not per URL.
//
// [user] calls take the caller's access token (`auth`) first; the calls behind the waiting room
// take the Queue-Token next. `{userId}` paths use `me`, the caller.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { accessTokenOf, bearer, mintToken, SELF_SIGNING } from './auth.js';
import { ADMIN_KEY, BASE_URL } from './config.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

// Statuses the contract allows somewhere: 4xx answers are part of the test, not transport
// failures, so `http_req_failed` only counts 5xx (503 shedding is checked separately).
http.setResponseCallback(
  http.expectedStatuses({ min: 200, max: 299 }, 400, 401, 403, 404, 409, 410, 422, 429),
);

function params(name, headers = {}) {
  return { headers, tags: { name } };
}

// Content-Type only where there is a body: the API rejects a JSON content type with an empty body.
function jsonParams(name, headers = {}) {
  return params(name, { ...JSON_HEADERS, ...headers });
}

function body(response) {
  try {
    return response.json();
  } catch {
    return undefined;
  }
}

/** The stable `code` of a problem+json response, or undefined. */
export function codeOf(response) {
  const contentType = response.headers['Content-Type'] || '';
  if (!contentType.startsWith('application/problem+json')) return undefined;
  const parsed = body(response);
  return parsed && parsed.code;
}

/** Checks a contract error: status, problem+json content type and code. */
export function checkProblem(response, status, code, label) {
  return check(response, {
    [`${label}: ${status} ${code}`]: (r) => r.status === status && codeOf(r) === code,
  });
}

/** 429 and 503 are allowed under overload, but only with Retry-After and a contract code. */
export function isValidShed(response) {
  if (response.status !== 429 && response.status !== 503) return false;
  const code = codeOf(response);
  return (
    response.headers['Retry-After'] !== undefined &&
    (code === 'RATE_LIMITED' || code === 'SERVICE_UNAVAILABLE')
  );
}

// ---- admin ----

export function createConcert(title, performer = 'k6') {
  const response = http.post(
    `${BASE_URL}/admin/concerts`,
    JSON.stringify({ title, performer }),
    jsonParams('POST /admin/concerts', { 'X-Admin-Key': ADMIN_KEY }),
  );
  if (response.status !== 201) {
    throw new Error(
      `create concert: ${response.status} ${response.body} (is ADMIN_API_KEY right?)`,
    );
  }
  return body(response);
}

/** A schedule whose booking window is open now, starting in a week. */
export function createOpenSchedule(concertId, { seatCount = 50, price = 50000 } = {}) {
  const now = Date.now();
  const response = http.post(
    `${BASE_URL}/admin/concerts/${concertId}/schedules`,
    JSON.stringify({
      startsAt: new Date(now + 7 * 86400000).toISOString(),
      bookingOpensAt: new Date(now - 60000).toISOString(),
      bookingClosesAt: new Date(now + 6 * 86400000).toISOString(),
      seatCount,
      price,
    }),
    jsonParams('POST /admin/concerts/{id}/schedules', { 'X-Admin-Key': ADMIN_KEY }),
  );
  if (response.status !== 201)
    throw new Error(`create schedule: ${response.status} ${response.body}`);
  return body(response);
}

/**
 * PUT /admin/concerts/{id}/waiting-room: the room's settings (fields left out take the service's
 * QUEUE_* defaults). Returns the effective settings.
 */
export function configureWaitingRoom(concertId, settings) {
  const response = http.put(
    `${BASE_URL}/admin/concerts/${concertId}/waiting-room`,
    JSON.stringify(settings),
    jsonParams('PUT /admin/concerts/{id}/waiting-room', { 'X-Admin-Key': ADMIN_KEY }),
  );
  if (response.status !== 200) {
    throw new Error(`configure waiting room: ${response.status} ${response.body}`);
  }
  return body(response);
}

// ---- accounts ----

/** The password of every user the scripts sign up (8..128 characters). */
export const USER_PASSWORD = 'k6-load-test-password';

/** A unique, valid sign-up email (the run id keeps reruns from colliding with 409 EMAIL_TAKEN). */
export function userEmail(runId, label) {
  return `k6-${runId}-${String(label).replace(/[^A-Za-z0-9]+/g, '-')}@example.com`;
}

function signUpRequest(name, email, password = USER_PASSWORD) {
  return [
    'POST',
    `${BASE_URL}/users`,
    JSON.stringify({ name, email, password }),
    jsonParams('POST /users'),
  ];
}

function loginRequest(email, password = USER_PASSWORD) {
  return [
    'POST',
    `${BASE_URL}/auth/tokens`,
    JSON.stringify({ email, password }),
    jsonParams('POST /auth/tokens'),
  ];
}

/** POST /users; the response as is (201 `{ id, name, email, createdAt }`). */
export function signUp(name, email, password = USER_PASSWORD) {
  const [method, url, payload, requestParams] = signUpRequest(name, email, password);
  return http.request(method, url, payload, requestParams);
}

/** POST /auth/tokens; the response as is (200 `{ accessToken, tokenType, expiresIn }`). */
export function login(email, password = USER_PASSWORD) {
  const [method, url, payload, requestParams] = loginRequest(email, password);
  return http.request(method, url, payload, requestParams);
}

function signUpFailure(response) {
  if (response.status === 429) {
    return new Error(
      'sign-ups are rate limited per client address (429): run the stack with ' +
        'AUTH_SIGNUPS_PER_HOUR=0 (or at least the number of users) for load tests',
    );
  }
  return new Error(`sign up: ${response.status} ${response.body}`);
}

/**
 * Signs up one user and gets their access token (signed here with AUTH_JWT_SECRET, else by
 * logging in). Returns `{ id, email, accessToken }`, or undefined after a failed check.
 */
export function createUser(name, email) {
  const created = signUp(name, email);
  if (!check(created, { 'sign up: 201': (r) => r.status === 201 })) {
    if (created.status === 429) throw signUpFailure(created);
    return undefined;
  }
  const id = body(created).id;
  if (SELF_SIGNING) return { id, email, accessToken: mintToken(id) };
  const loggedIn = login(email);
  if (!check(loggedIn, { 'log in: 200': (r) => r.status === 200 })) return undefined;
  return { id, email, accessToken: body(loggedIn).accessToken };
}

/**
 * Signs up `count` users, each topped up with `balance` KRW, in batches (setup() of the bigger
 * scripts). Returns `[{ id, accessToken? }]`: with AUTH_JWT_SECRET only ids (each VU signs the
 * tokens it needs, which keeps setup data small), otherwise the tokens their logins returned.
 */
export function createUsers(count, balance, runId, prefix = 'k6 user') {
  const users = [];
  const batchSize = 50;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const emails = Array.from({ length: size }, (_, i) =>
      userEmail(runId, `${prefix} ${start + i + 1}`),
    );
    const created = http.batch(
      emails.map((email, i) => signUpRequest(`${prefix} ${start + i + 1}`, email)),
    );
    const limited = created.find((r) => r.status === 429);
    if (limited) throw signUpFailure(limited);
    const batch = [];
    created.forEach((r, i) => {
      if (r.status === 201) batch.push({ id: body(r).id, email: emails[i] });
    });
    if (!SELF_SIGNING) {
      const logins = http.batch(batch.map((user) => loginRequest(user.email)));
      logins.forEach((r, i) => {
        batch[i].accessToken = r.status === 200 ? body(r).accessToken : undefined;
      });
    }
    if (balance > 0) {
      http.batch(
        batch.map((user) => [
          'POST',
          `${BASE_URL}/users/me/cash/charges`,
          JSON.stringify({ amount: balance }),
          jsonParams('POST /users/{id}/cash/charges', bearer(accessTokenOf(user))),
        ]),
      );
    }
    for (const user of batch) {
      if (SELF_SIGNING) users.push({ id: user.id });
      else if (user.accessToken) users.push({ id: user.id, accessToken: user.accessToken });
    }
  }
  if (users.length < count) throw new Error(`created only ${users.length} of ${count} users`);
  return users;
}

export function me(auth) {
  return http.get(`${BASE_URL}/users/me`, params('GET /users/{id}', bearer(auth)));
}

export function getUser(auth, userId) {
  return http.get(`${BASE_URL}/users/${userId}`, params('GET /users/{id}', bearer(auth)));
}

// ---- cash ----

export function charge(auth, amount, idempotencyKey) {
  const headers = bearer(auth);
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  return http.post(
    `${BASE_URL}/users/me/cash/charges`,
    JSON.stringify({ amount }),
    jsonParams('POST /users/{id}/cash/charges', headers),
  );
}

export function balance(auth) {
  return http.get(`${BASE_URL}/users/me/cash`, params('GET /users/{id}/cash', bearer(auth)));
}

export function cashHistory(auth, limit = 20) {
  return http.get(
    `${BASE_URL}/users/me/cash/history?limit=${limit}`,
    params('GET /users/{id}/cash/history', bearer(auth)),
  );
}

export function payments(auth) {
  return http.get(
    `${BASE_URL}/users/me/payments`,
    params('GET /users/{id}/payments', bearer(auth)),
  );
}

// ---- queue ----

/** POST /queue/tokens for the caller (the bearer) and one concert's waiting room. */
export function issueToken(auth, concertId) {
  return http.post(
    `${BASE_URL}/queue/tokens`,
    JSON.stringify({ concertId }),
    jsonParams('POST /queue/tokens', bearer(auth)),
  );
}

/** GET /queue/status: the Queue-Token alone, no bearer. */
export function queueStatus(token) {
  return http.get(
    `${BASE_URL}/queue/status`,
    params('GET /queue/status', { 'Queue-Token': token }),
  );
}

/** The contract's bounds of `pollAfterSeconds`. */
export const POLL_AFTER_MIN_SECONDS = 1;
export const POLL_AFTER_MAX_SECONDS = 60;

/**
 * When to ask again, as the server says: the `pollAfterSeconds` of a status answer (POST
 * /queue/tokens, GET /queue/status), else its `Retry-After` (a 429/503 carries one too), else
 * 1 s. Kept within the contract's 1..60 s, so a broken answer cannot park a VU for hours.
 */
export function pollAfterSeconds(response) {
  const parsed = body(response);
  let hint = parsed && parsed.pollAfterSeconds;
  if (typeof hint !== 'number' || !Number.isFinite(hint)) {
    hint = Number(response.headers['Retry-After']);
    if (!Number.isFinite(hint)) hint = POLL_AFTER_MIN_SECONDS;
  }
  return Math.min(Math.max(hint, POLL_AFTER_MIN_SECONDS), POLL_AFTER_MAX_SECONDS);
}

/**
 * A status answer as the contract words it: `{ token, userId, concertId, status, position,
 * estimatedWaitSeconds, activeUntil, pollAfterSeconds, admissionStartsAt }`. `position` is 0 when
 * ACTIVE, 1-based while WAITING, and null while a RANDOM_AT_START room has not started (the order
 * is drawn at the start); `pollAfterSeconds` is an integer 1..60, also sent as `Retry-After`.
 */
export function isValidTicket(entry, concertId) {
  if (!entry || typeof entry.token !== 'string' || typeof entry.userId !== 'string') return false;
  if (concertId !== undefined && entry.concertId !== concertId) return false;
  const hint = entry.pollAfterSeconds;
  if (!Number.isInteger(hint) || hint < POLL_AFTER_MIN_SECONDS || hint > POLL_AFTER_MAX_SECONDS) {
    return false;
  }
  if (entry.admissionStartsAt !== null && typeof entry.admissionStartsAt !== 'string') return false;
  if (!Number.isInteger(entry.estimatedWaitSeconds) || entry.estimatedWaitSeconds < 0) return false;
  if (entry.status === 'ACTIVE') {
    return entry.position === 0 && typeof entry.activeUntil === 'string';
  }
  return (
    entry.status === 'WAITING' &&
    entry.activeUntil === null &&
    (entry.position === null || (Number.isInteger(entry.position) && entry.position >= 1))
  );
}

/** A 200/201 status answer whose `Retry-After` header repeats its `pollAfterSeconds`. */
export function isValidStatusAnswer(response, concertId) {
  const entry = body(response);
  return (
    (response.status === 200 || response.status === 201) &&
    isValidTicket(entry, concertId) &&
    String(response.headers['Retry-After']) === String(entry.pollAfterSeconds)
  );
}

/**
 * Issues a token and polls until it is ACTIVE, as a well-behaved client does: it sleeps exactly
 * the server's `pollAfterSeconds` between polls (never a timer of its own), waits out a 429/503's
 * `Retry-After`, and does not care about `position` (null before a RANDOM_AT_START room starts).
 * Gives up once `maxWaitSeconds` have passed (checked after each poll, so a give-up can come up to
 * one hint late, but never polls earlier than told). Returns { token, waitedMs } or undefined.
 */
export function enterQueue(auth, concertId, maxWaitSeconds = 120) {
  const issued = issueToken(auth, concertId);
  if (!check(issued, { 'issue token: 201/200': (r) => r.status === 201 || r.status === 200 })) {
    return undefined;
  }
  const started = Date.now();
  let entry = body(issued);
  let last = issued;
  while (entry && entry.status !== 'ACTIVE') {
    if (Date.now() - started > maxWaitSeconds * 1000) return undefined;
    sleep(pollAfterSeconds(last));
    const polled = queueStatus(entry.token);
    last = polled;
    // Shed under load (429 RATE_LIMITED, 503 SERVICE_UNAVAILABLE): wait its Retry-After, retry.
    if (isValidShed(polled)) continue;
    if (!check(polled, { 'poll status: 200': (r) => r.status === 200 })) return undefined;
    entry = body(polled);
  }
  return entry ? { token: entry.token, waitedMs: Date.now() - started } : undefined;
}

// ---- catalogue, holds, payments ([user] and an ACTIVE Queue-Token) ----

function gated(auth, token) {
  const headers = auth ? bearer(auth) : {};
  if (token) headers['Queue-Token'] = token;
  return headers;
}

export function schedules(auth, token, concertId) {
  return http.get(
    `${BASE_URL}/concerts/${concertId}/schedules`,
    params('GET /concerts/{id}/schedules', gated(auth, token)),
  );
}

export function seats(auth, token, concertId, scheduleId) {
  return http.get(
    `${BASE_URL}/concerts/${concertId}/schedules/${scheduleId}/seats`,
    params('GET /concerts/{id}/schedules/{id}/seats', gated(auth, token)),
  );
}

export function hold(auth, token, scheduleId, seatId) {
  return http.post(
    `${BASE_URL}/reservations`,
    JSON.stringify({ scheduleId, seatId }),
    jsonParams('POST /reservations', gated(auth, token)),
  );
}

export function reservation(auth, token, id) {
  return http.get(
    `${BASE_URL}/reservations/${id}`,
    params('GET /reservations/{id}', gated(auth, token)),
  );
}

export function cancel(auth, token, id) {
  return http.del(
    `${BASE_URL}/reservations/${id}`,
    null,
    params('DELETE /reservations/{id}', gated(auth, token)),
  );
}

export function pay(auth, token, reservationIds, idempotencyKey) {
  const headers = gated(auth, token);
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  return http.post(
    `${BASE_URL}/payments`,
    JSON.stringify({ reservationIds }),
    jsonParams('POST /payments', headers),
  );
}

/** A list response: a bare array, or the `items` of a page. */
export function list(response) {
  const parsed = body(response);
  return Array.isArray(parsed) ? parsed : (parsed && parsed.items) || [];
}

export { body as json };
