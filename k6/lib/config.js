// Settings shared by every script, read from `k6 run -e NAME=value` (or the environment).

export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:3000').replace(/\/+$/, '');

// The compose stack's default key (docker-compose.yml); pass -e ADMIN_API_KEY=... for yours.
export const ADMIN_KEY = __ENV.ADMIN_API_KEY || 'change-me-admin-key';

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
