// Access tokens for the scripts' users (contract: "Accounts and access tokens").
//
// With AUTH_JWT_SECRET set, tokens are HS256 JWTs signed here, exactly as POST /auth/tokens would
// issue them (iss, aud, sub = user id, iat, exp): no argon2 login per user, so setup() of a large
// run stays fast and the service's CPU goes to the traffic under test. Without it, each user logs
// in once through POST /auth/tokens, like a real client.
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import { JWT_AUDIENCE, JWT_ISSUER, JWT_SECRET, MINTED_TOKEN_TTL_SECONDS } from './config.js';

export const SELF_SIGNING = JWT_SECRET !== '';

function base64url(text) {
  return encoding.b64encode(text, 'rawurl');
}

/** An HS256 access token for `userId`, signed with AUTH_JWT_SECRET. */
export function mintToken(userId, ttlSeconds = MINTED_TOKEN_TTL_SECONDS) {
  if (!SELF_SIGNING) throw new Error('mintToken needs -e AUTH_JWT_SECRET=<the service secret>');
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      sub: userId,
      iat: now,
      exp: now + ttlSeconds,
    }),
  );
  const signingInput = `${header}.${payload}`;
  return `${signingInput}.${crypto.hmac('sha256', JWT_SECRET, signingInput, 'base64rawurl')}`;
}

// Per VU (each VU is its own JS runtime): sign each user's token once.
const minted = {};

/**
 * The access token of a script user `{ id, accessToken? }`: the one it logged in with, or one
 * signed here (once per VU and user).
 */
export function accessTokenOf(user) {
  if (user.accessToken) return user.accessToken;
  if (!minted[user.id]) minted[user.id] = mintToken(user.id);
  return minted[user.id];
}

/** The header of a [user] call. */
export function bearer(accessToken) {
  return { Authorization: `Bearer ${accessToken}` };
}

/** A run id for unique sign-up emails: made once in setup() and handed to the VUs. */
export function newRunId() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
