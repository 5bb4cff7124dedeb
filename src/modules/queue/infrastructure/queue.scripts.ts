/**
 * The waiting queue's Lua scripts. Each runs atomically inside Redis, so every multi-step change
 * (join, poll, admit, expire, drop, retire) is all-or-nothing and any number of instances may run
 * them at the same moment. Rules they share:
 * - Redis TIME is the only clock (scores and expiries in ms).
 * - Every key arrives in KEYS (never built here), so the client's key prefix applies.
 * - A token is live when it is ACTIVE with an expiry in the future, or WAITING and polled within
 *   the idle limit. Dead entries the jobs have not yet removed are treated as gone everywhere.
 * Replies encode an entry as {0} (none), {1, token, userId, concertId, position, now, activeCount,
 * admittedInWindow, oldestAdmissionMs|-1} (WAITING) or {2, token, userId, concertId,
 * activeUntilMs} (ACTIVE). concertId is 0 for a token issued before tokens recorded their concert.
 */

const CLOCK = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// Needs activeKey, seenKey and idleMs in scope. Returns 2 + expiry (ACTIVE), 1 (WAITING) or 0.
const LIVE_STATE = `
local function liveState(token, now)
  local expires = redis.call('ZSCORE', activeKey, token)
  if expires then
    expires = tonumber(expires)
    if expires > now then return 2, expires end
    return 0
  end
  local seen = redis.call('ZSCORE', seenKey, token)
  if seen and tonumber(seen) + idleMs > now then return 1 end
  return 0
end
`;

// Needs concertsKey in scope. The concert a live token was issued for; 0 when none is recorded
// (a token issued before tokens recorded their concert).
const CONCERT_OF = `
local function concertOf(token)
  return redis.call('HGET', concertsKey, token) or 0
end
`;

// Needs waitingKey, activeKey, admittedKey and windowMs in scope.
const DESCRIBE_WAITING = `
local function describeWaiting(token, userId, concertId, now)
  local rank = redis.call('ZRANK', waitingKey, token)
  local activeCount = redis.call('ZCOUNT', activeKey, '(' .. now, '+inf')
  local since = '(' .. (now - windowMs)
  local admitted = redis.call('ZCOUNT', admittedKey, since, '+inf')
  local oldest = -1
  if admitted > 0 then
    local first = redis.call('ZRANGEBYSCORE', admittedKey, since, '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
    oldest = tonumber(first[2])
  end
  return {1, token, userId, concertId, rank + 1, now, activeCount, admitted, oldest}
end
`;

// Needs ownersKey, usersKey and concertsKey in scope. Unlinks token, owner (looked up unless the
// caller knows it) and concert; the user's pointer goes only if it still names this token, so a
// newer token of the same user survives.
const FORGET_OWNER = `
local function forgetOwner(token, knownUserId)
  local userId = knownUserId or redis.call('HGET', ownersKey, token)
  redis.call('HDEL', ownersKey, token)
  redis.call('HDEL', concertsKey, token)
  if userId and redis.call('HGET', usersKey, userId) == token then
    redis.call('HDEL', usersKey, userId)
  end
end
`;

// Needs waitingKey, seenKey, activeKey, ownersKey, usersKey and concertsKey in scope.
const FORGET = `${FORGET_OWNER}
local function forget(token, userId)
  redis.call('ZREM', waitingKey, token)
  redis.call('ZREM', seenKey, token)
  redis.call('ZREM', activeKey, token)
  forgetOwner(token, userId)
end
`;

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

/**
 * KEYS users, owners, waiting, seen, active, admitted, sequence, concerts;
 * ARGV userId, newToken ('' = only look), idleMs, windowMs, concertId (ignored when only looking).
 * Reply {created(0|1), ...entry} or {-1} when only looking and the user has no live entry.
 * A user keeps one live token: a live one comes back (touched as a poll) with the concert it was
 * issued for, whatever concertId this call names, and nobody moves; a dead one is cleaned up and
 * the user joins at the end with the new token, recorded for concertId. The score is a sequence
 * number, so FIFO order is exact even for joins in the same millisecond.
 */
export const JOIN: ScriptDefinition = {
  numberOfKeys: 8,
  lua: `
local usersKey, ownersKey, waitingKey, seenKey, activeKey, admittedKey, sequenceKey, concertsKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local userId, token = ARGV[1], ARGV[2]
local idleMs, windowMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local concertId = ARGV[5]
${CLOCK}${LIVE_STATE}${CONCERT_OF}${DESCRIBE_WAITING}${FORGET}
local now = clock()
local existing = redis.call('HGET', usersKey, userId)
if existing then
  local state, expires = liveState(existing, now)
  if state == 2 then return {0, 2, existing, userId, concertOf(existing), expires} end
  if state == 1 then
    redis.call('ZADD', seenKey, now, existing)
    local entry = describeWaiting(existing, userId, concertOf(existing), now)
    table.insert(entry, 1, 0)
    return entry
  end
  forget(existing, userId)
end
if token == '' then return {-1} end
if redis.call('HEXISTS', ownersKey, token) == 1 then
  return redis.error_reply('queue token collision')
end
local sequence = redis.call('INCR', sequenceKey)
redis.call('ZADD', waitingKey, sequence, token)
redis.call('ZADD', seenKey, now, token)
redis.call('HSET', ownersKey, token, userId)
redis.call('HSET', usersKey, userId, token)
redis.call('HSET', concertsKey, token, concertId)
local entry = describeWaiting(token, userId, concertId, now)
table.insert(entry, 1, 1)
return entry
`,
};

/**
 * The status poll, the hot path: one round trip. KEYS owners, waiting, seen, active, admitted,
 * concerts; ARGV token, idleMs, windowMs. Reply: an entry. Polling refreshes a WAITING entry's
 * idle clock.
 */
export const POLL: ScriptDefinition = {
  numberOfKeys: 6,
  lua: `
local ownersKey, waitingKey, seenKey, activeKey, admittedKey, concertsKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local token = ARGV[1]
local idleMs, windowMs = tonumber(ARGV[2]), tonumber(ARGV[3])
${CLOCK}${LIVE_STATE}${CONCERT_OF}${DESCRIBE_WAITING}
local userId = redis.call('HGET', ownersKey, token)
if not userId then return {0} end
local now = clock()
local state, expires = liveState(token, now)
if state == 0 then return {0} end
if state == 2 then return {2, token, userId, concertOf(token), expires} end
redis.call('ZADD', seenKey, now, token)
return describeWaiting(token, userId, concertOf(token), now)
`,
};

/**
 * The guard's check, read-only. KEYS owners, active, seen, concerts; ARGV token, idleMs.
 * Reply {0} (not live), {1, userId, concertId} (WAITING) or {2, userId, concertId} (ACTIVE).
 */
export const INSPECT: ScriptDefinition = {
  numberOfKeys: 4,
  lua: `
local ownersKey, activeKey, seenKey, concertsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, idleMs = ARGV[1], tonumber(ARGV[2])
${CLOCK}${LIVE_STATE}${CONCERT_OF}
local userId = redis.call('HGET', ownersKey, token)
if not userId then return {0} end
local state = liveState(token, clock())
if state == 0 then return {0} end
return {state, userId, concertOf(token)}
`,
};

/**
 * KEYS waiting, seen, active, admitted; ARGV maxActive, perSecond, ttlMs, windowMs, idleMs.
 * Reply: how many were admitted. The budget is taken inside the script from the live state, so
 * runners firing together on several instances simply find less (or nothing) left to do:
 *   budget = min(maxActive - live ACTIVE, perSecond - admitted in this Redis second)
 * and the head of the line (lowest sequence first) fills it. An entry already past its idle
 * limit is skipped (the drop script removes it); it is never admitted.
 */
export const ADMIT: ScriptDefinition = {
  numberOfKeys: 4,
  lua: `
local waitingKey, seenKey, activeKey, admittedKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local maxActive, perSecond = tonumber(ARGV[1]), tonumber(ARGV[2])
local ttlMs, windowMs, idleMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
${CLOCK}
local now = clock()
redis.call('ZREMRANGEBYSCORE', admittedKey, '-inf', now - windowMs)
local live = redis.call('ZCOUNT', activeKey, '(' .. now, '+inf')
local thisSecond = redis.call('ZCOUNT', admittedKey, now - now % 1000, '+inf')
local budget = math.min(maxActive - live, perSecond - thisSecond)
if budget <= 0 then return 0 end
local head = redis.call('ZRANGE', waitingKey, 0, budget - 1)
local admitted = 0
local expires = now + ttlMs
for _, token in ipairs(head) do
  local seen = redis.call('ZSCORE', seenKey, token)
  if seen and tonumber(seen) + idleMs > now then
    redis.call('ZREM', waitingKey, token)
    redis.call('ZREM', seenKey, token)
    redis.call('ZADD', activeKey, expires, token)
    redis.call('ZADD', admittedKey, now, token)
    admitted = admitted + 1
  end
end
return admitted
`,
};

/**
 * KEYS active, owners, users, concerts; ARGV limit. Removes ACTIVE tokens past expiry (with
 * their owner and concert entries); reply: count.
 */
export const EXPIRE: ScriptDefinition = {
  numberOfKeys: 4,
  lua: `
local activeKey, ownersKey, usersKey, concertsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
${CLOCK}${FORGET_OWNER}
local expired = redis.call('ZRANGEBYSCORE', activeKey, '-inf', clock(), 'LIMIT', 0, tonumber(ARGV[1]))
for _, token in ipairs(expired) do
  redis.call('ZREM', activeKey, token)
  forgetOwner(token)
end
return #expired
`,
};

/**
 * KEYS waiting, seen, owners, users, concerts; ARGV idleMs, limit. Removes WAITING entries not
 * polled within idleMs (the same boundary liveState uses), with their owner and concert entries;
 * reply: count.
 */
export const DROP_IDLE: ScriptDefinition = {
  numberOfKeys: 5,
  lua: `
local waitingKey, seenKey, ownersKey, usersKey, concertsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
${CLOCK}${FORGET_OWNER}
local idle = redis.call('ZRANGEBYSCORE', seenKey, '-inf', clock() - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
for _, token in ipairs(idle) do
  redis.call('ZREM', waitingKey, token)
  redis.call('ZREM', seenKey, token)
  forgetOwner(token)
end
return #idle
`,
};

/**
 * KEYS active, waiting, seen, owners, users, retired(token), concerts; ARGV token, knownOwner
 * (or ''), retainSeconds. Ends the token wherever it is (its concert entry too) and leaves a
 * tombstone naming its owner. Reply: 1 when the token was still on record, else 0.
 */
export const RETIRE: ScriptDefinition = {
  numberOfKeys: 7,
  lua: `
local activeKey, waitingKey, seenKey, ownersKey, usersKey, retiredKey, concertsKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local token, knownOwner, retainSeconds = ARGV[1], ARGV[2], ARGV[3]
${FORGET}
local owner = redis.call('HGET', ownersKey, token)
local onRecord = 0
if owner then
  forget(token, owner)
  onRecord = 1
elseif knownOwner ~= '' then
  owner = knownOwner
end
if owner then redis.call('SET', retiredKey, owner, 'EX', retainSeconds) end
return onRecord
`,
};

/** KEYS waiting, active. Reply {waiting, live ACTIVE} for the gauges. */
export const COUNTS: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
${CLOCK}
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCOUNT', KEYS[2], '(' .. clock(), '+inf')}
`,
};

export const QUEUE_SCRIPTS = {
  queueJoin: JOIN,
  queuePoll: POLL,
  queueInspect: INSPECT,
  queueAdmit: ADMIT,
  queueExpire: EXPIRE,
  queueDropIdle: DROP_IDLE,
  queueRetire: RETIRE,
  queueCounts: COUNTS,
} as const;
