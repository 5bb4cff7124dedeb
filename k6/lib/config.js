// Settings shared by every script, read from `k6 run -e NAME=value` (or the environment).

export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:3000').replace(/\/+$/, '');

// The compose stack's DEMO ONLY default key (docker-compose.yml); pass -e ADMIN_API_KEY=... for
// yours (the same value the stack runs with, e.g. from its .env file).
export const ADMIN_KEY = __ENV.ADMIN_API_KEY || 'demo-only-admin-key-do-not-use-in-production';

// Access tokens. With AUTH_JWT_SECRET (the service's own secret) the scripts sign HS256 tokens
// themselves, as any holder of the secret may; without it every user logs in through
// POST /auth/tokens once (an argon2 verification each, in setup()).
export const JWT_SECRET = __ENV.AUTH_JWT_SECRET || '';
export const JWT_ISSUER = __ENV.AUTH_JWT_ISSUER || 'concert-booking';
export const JWT_AUDIENCE = __ENV.AUTH_JWT_AUDIENCE || 'concert-booking-api';

/** An integer from __ENV, or the default; a typo fails the run instead of silently using 0. */
export function intEnv(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return value;
}

export function floatEnv(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

// Lifetime of self-signed tokens: longer than any run, so no VU needs a fresh one mid-test.
export const MINTED_TOKEN_TTL_SECONDS = intEnv('MINTED_TOKEN_TTL_SECONDS', 6 * 3600);

const DURATION_UNITS = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds in a k6 duration string (`90s`, `2m`, `1m30s`, `500ms`); a typo fails the run. */
export function durationSeconds(text) {
  const parts = String(text).match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g);
  if (!parts || parts.join('') !== String(text)) {
    throw new Error(`"${text}" is not a k6 duration such as 60s, 2m or 1m30s`);
  }
  return parts.reduce((total, part) => {
    const [, value, unit] = part.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)$/);
    return total + Number(value) * DURATION_UNITS[unit];
  }, 0);
}
