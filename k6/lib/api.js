// Thin client for the public HTTP contract (/work/shared/api-contract.md, docs/api.md).
// Every request carries a `name` tag so k6 groups metrics per endpoint, not per URL.
import http from 'k6/http';
import { check, sleep } from 'k6';
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

// ---- users and cash ----

export function createUser(name) {
  const response = http.post(
    `${BASE_URL}/users`,
    JSON.stringify({ name }),
    jsonParams('POST /users'),
  );
  check(response, { 'create user: 201': (r) => r.status === 201 });
  return response.status === 201 ? body(response) : undefined;
}

/**
 * Creates `count` users, each with `balance` KRW, in batches (setup() of the bigger scripts).
 * Returns their ids.
 */
export function createUsers(count, balance, prefix = 'k6 user') {
  const ids = [];
  const batchSize = 50;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const created = http.batch(
      Array.from({ length: size }, (_, i) => [
        'POST',
        `${BASE_URL}/users`,
        JSON.stringify({ name: `${prefix} ${start + i + 1}` }),
        jsonParams('POST /users'),
      ]),
    );
    const batchIds = created.filter((r) => r.status === 201).map((r) => body(r).id);
    if (balance > 0) {
      http.batch(
        batchIds.map((id) => [
          'POST',
          `${BASE_URL}/users/${id}/cash/charges`,
          JSON.stringify({ amount: balance }),
          jsonParams('POST /users/{id}/cash/charges'),
        ]),
      );
    }
    ids.push(...batchIds);
  }
  if (ids.length < count) throw new Error(`created only ${ids.length} of ${count} users`);
  return ids;
}

export function charge(userId, amount, idempotencyKey) {
  const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
  return http.post(
    `${BASE_URL}/users/${userId}/cash/charges`,
    JSON.stringify({ amount }),
    jsonParams('POST /users/{id}/cash/charges', headers),
  );
}

export function balance(userId) {
  return http.get(`${BASE_URL}/users/${userId}/cash`, params('GET /users/{id}/cash'));
}

export function cashHistory(userId, limit = 20) {
  return http.get(
    `${BASE_URL}/users/${userId}/cash/history?limit=${limit}`,
    params('GET /users/{id}/cash/history'),
  );
}

export function payments(userId) {
  return http.get(`${BASE_URL}/users/${userId}/payments`, params('GET /users/{id}/payments'));
}

// ---- queue ----

export function issueToken(userId) {
  return http.post(
    `${BASE_URL}/queue/tokens`,
    JSON.stringify({ userId }),
    jsonParams('POST /queue/tokens'),
  );
}

export function queueStatus(token) {
  return http.get(
    `${BASE_URL}/queue/status`,
    params('GET /queue/status', { 'Queue-Token': token }),
  );
}

/**
 * Issues a token and polls until it is ACTIVE, sleeping as a well-behaved client would (about a
 * second, never longer than the server's estimate). Returns { token, waitedMs } or undefined.
 */
export function enterQueue(userId, maxWaitSeconds = 120) {
  const issued = issueToken(userId);
  if (!check(issued, { 'issue token: 201/200': (r) => r.status === 201 || r.status === 200 })) {
    return undefined;
  }
  const started = Date.now();
  let entry = body(issued);
  while (entry && entry.status !== 'ACTIVE') {
    if (Date.now() - started > maxWaitSeconds * 1000) return undefined;
    sleep(Math.min(Math.max(entry.estimatedWaitSeconds || 1, 0.5), 2));
    const polled = queueStatus(entry.token);
    if (!check(polled, { 'poll status: 200': (r) => r.status === 200 })) return undefined;
    entry = body(polled);
  }
  return entry ? { token: entry.token, waitedMs: Date.now() - started } : undefined;
}

// ---- catalogue, holds, payments (need an ACTIVE token) ----

export function schedules(token, concertId) {
  return http.get(
    `${BASE_URL}/concerts/${concertId}/schedules`,
    params('GET /concerts/{id}/schedules', { 'Queue-Token': token }),
  );
}

export function seats(token, concertId, scheduleId) {
  return http.get(
    `${BASE_URL}/concerts/${concertId}/schedules/${scheduleId}/seats`,
    params('GET /concerts/{id}/schedules/{id}/seats', { 'Queue-Token': token }),
  );
}

export function hold(token, scheduleId, seatId) {
  return http.post(
    `${BASE_URL}/reservations`,
    JSON.stringify({ scheduleId, seatId }),
    jsonParams('POST /reservations', { 'Queue-Token': token }),
  );
}

export function reservation(token, id) {
  return http.get(
    `${BASE_URL}/reservations/${id}`,
    params('GET /reservations/{id}', { 'Queue-Token': token }),
  );
}

export function cancel(token, id) {
  return http.del(
    `${BASE_URL}/reservations/${id}`,
    null,
    params('DELETE /reservations/{id}', { 'Queue-Token': token }),
  );
}

export function pay(token, reservationIds, idempotencyKey) {
  const headers = { 'Queue-Token': token };
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
