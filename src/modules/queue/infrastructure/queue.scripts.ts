/**
 * The waiting rooms' Lua scripts. Each runs atomically inside Redis, so every multi-step change
 * (join, poll, admit, expire, drop, start, retire) is all-or-nothing and any number of instances
 * may run them at the same moment. Rules they share:
 * - Redis TIME is the only clock (scores and expiries in ms).
 * - Every key arrives in KEYS (never built here), so the client's key prefix applies and a Redis
 *   Cluster routes the call: every room script gets the room's keys in ROOM_KEY_ORDER (all
 *   under one hash tag), plus at most a per-token key of the same room.
 * - A token is live when it is ACTIVE with an expiry in the future, or WAITING and polled within
 *   the idle limit. Dead entries the job has not yet removed are treated as gone everywhere.
 * - A RANDOM_AT_START room is started (its pre-queue put in line) by whichever script first sees
 *   Redis time at or past the start; the `started` marker makes that happen exactly once.
 * Replies encode an entry as {0} (none), {1, token, userId, position|-1, now, activeCount,
 * admittedInWindow, oldestAdmissionMs|-1, preQueueSize} (WAITING; -1 = unranked in the
 * pre-queue) or {2, token, userId, activeUntilMs, now} (ACTIVE).
 */

/** The order in which every room script receives the room's keys (see roomKeys). */
export const ROOM_KEY_ORDER = [
  'sequence',
  'waiting',
  'preQueue',
  'seen',
  'active',
  'admitted',
  'owners',
  'users',
  'started',
] as const;

const ROOM_KEY_COUNT = ROOM_KEY_ORDER.length;

// Every function below takes the room's keys as `k`; none reads a variable of its caller.
const PRELUDE = `
local k = {}
${ROOM_KEY_ORDER.map((name, i) => `k.${name} = KEYS[${i + 1}]`).join('\n')}

local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A WAITING token stays in line while its last poll is within idleMs; TICK's idle drop
-- (seen <= now - idleMs) is exactly its complement.
local function polledWithin(k, token, now, idleMs)
  local seen = redis.call('ZSCORE', k.seen, token)
  return seen and tonumber(seen) + idleMs > now
end

-- 2, expiry (ACTIVE, not yet expired) | 1 (WAITING, polled within idleMs) | 0 (not live)
local function liveState(k, token, now, idleMs)
  local expires = redis.call('ZSCORE', k.active, token)
  if expires then
    expires = tonumber(expires)
    if expires > now then return 2, expires end
    return 0
  end
  if polledWithin(k, token, now, idleMs) then return 1 end
  return 0
end

-- Unlinks token and owner (looked up unless known); the user's pointer goes only if it still
-- names this token, so a newer token of the same user survives.
local function forgetOwner(k, token, knownUserId)
  local userId = knownUserId or redis.call('HGET', k.owners, token)
  redis.call('HDEL', k.owners, token)
  if userId and redis.call('HGET', k.users, userId) == token then
    redis.call('HDEL', k.users, userId)
  end
end

local function forget(k, token, userId)
  redis.call('ZREM', k.waiting, token)
  redis.call('ZREM', k.preQueue, token)
  redis.call('ZREM', k.seen, token)
  redis.call('ZREM', k.active, token)
  forgetOwner(k, token, userId)
end

-- Puts the pre-queue in line, in its random sort-key order, behind everyone already waiting and
-- ahead of every later join (they draw later sequence numbers). Once per start time: the marker
-- names the start it was done for. A room that stopped being a random start (its settings
-- changed) while people sat in its pre-queue puts them in line at once, so nobody is stranded.
-- Returns 1 when this call did it.
local function startIfDue(k, now, shuffleAtMs)
  if shuffleAtMs >= 0 then
    if now < shuffleAtMs then return 0 end
    local marker = redis.call('GET', k.started)
    if marker and string.sub(marker, 1, #tostring(shuffleAtMs) + 1) == shuffleAtMs .. ':' then
      return 0
    end
  elseif redis.call('EXISTS', k.preQueue) == 0 then
    return 0
  end
  local members = redis.call('ZRANGE', k.preQueue, 0, -1)
  local n = #members
  local first = redis.call('INCRBY', k.sequence, n) - n + 1
  local args = {}
  for i, token in ipairs(members) do
    args[#args + 1] = first + i - 1
    args[#args + 1] = token
    if #args >= 1000 then
      redis.call('ZADD', k.waiting, unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('ZADD', k.waiting, unpack(args)) end
  redis.call('DEL', k.preQueue)
  if shuffleAtMs < 0 then shuffleAtMs = now end
  redis.call('SET', k.started, shuffleAtMs .. ':' .. n)
  return 1
end

local function describeWaiting(k, token, userId, now, windowMs)
  local rank = redis.call('ZRANK', k.waiting, token)
  local position = -1
  if rank then position = rank + 1 end
  local activeCount = redis.call('ZCOUNT', k.active, '(' .. now, '+inf')
  local since = '(' .. (now - windowMs)
  local admitted = redis.call('ZCOUNT', k.admitted, since, '+inf')
  local oldest = -1
  if admitted > 0 then
    local first = redis.call('ZRANGEBYSCORE', k.admitted, since, '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
    oldest = tonumber(first[2])
  end
  return {1, token, userId, position, now, activeCount, admitted, oldest, redis.call('ZCARD', k.preQueue)}
end

-- The entry of a live token, touching a WAITING one as a poll; {0} when not live.
local function pollEntry(k, token, now, idleMs, windowMs)
  local userId = redis.call('HGET', k.owners, token)
  if not userId then return {0} end
  local state, expires = liveState(k, token, now, idleMs)
  if state == 0 then return {0} end
  if state == 2 then return {2, token, userId, expires, now} end
  redis.call('ZADD', k.seen, now, token)
  return describeWaiting(k, token, userId, now, windowMs)
end
`;

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

function roomScript(body: string, extraKeys = 0): ScriptDefinition {
  return { numberOfKeys: ROOM_KEY_COUNT + extraKeys, lua: `${PRELUDE}\n${body}` };
}

/**
 * ARGV userId, newToken ('' = only look), idleMs, windowMs, opensAtMs, shuffleAtMs, sortKey.
 * Reply {created(0|1), ...entry}, {-1} when only looking and the user has no live entry, or {-2}
 * when the room is not open yet. A user keeps one live token per room: a live one comes back
 * (touched as a poll) and nobody moves; a dead one is cleaned up and the user joins at the end
 * with the new token: into the unranked pre-queue before a RANDOM_AT_START room's start, else
 * into the line with the next sequence number, so FIFO order is exact even within one millisecond.
 */
export const JOIN = roomScript(`
local userId, token = ARGV[1], ARGV[2]
local idleMs, windowMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local opensAtMs, shuffleAtMs, sortKey = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local now = clock()
startIfDue(k, now, shuffleAtMs)
local existing = redis.call('HGET', k.users, userId)
if existing then
  local state, expires = liveState(k, existing, now, idleMs)
  if state == 2 then return {0, 2, existing, userId, expires, now} end
  if state == 1 then
    redis.call('ZADD', k.seen, now, existing)
    local entry = describeWaiting(k, existing, userId, now, windowMs)
    table.insert(entry, 1, 0)
    return entry
  end
  forget(k, existing, userId)
end
if token == '' then return {-1} end
if opensAtMs >= 0 and now < opensAtMs then return {-2} end
if redis.call('HEXISTS', k.owners, token) == 1 then
  return redis.error_reply('queue token collision')
end
if shuffleAtMs >= 0 and now < shuffleAtMs then
  redis.call('ZADD', k.preQueue, sortKey, token)
else
  redis.call('ZADD', k.waiting, redis.call('INCR', k.sequence), token)
end
redis.call('ZADD', k.seen, now, token)
redis.call('HSET', k.owners, token, userId)
redis.call('HSET', k.users, userId, token)
local entry = describeWaiting(k, token, userId, now, windowMs)
table.insert(entry, 1, 1)
return entry
`);

/** The status poll, the hot path: one round trip. ARGV token, idleMs, windowMs, shuffleAtMs. */
export const POLL = roomScript(`
local now = clock()
startIfDue(k, now, tonumber(ARGV[4]))
return pollEntry(k, ARGV[1], now, tonumber(ARGV[2]), tonumber(ARGV[3]))
`);

/**
 * The event streams' poll of many tokens of one room at once (one call per room per tick, not
 * one per stream). ARGV idleMs, windowMs, shuffleAtMs, token... Reply: one entry per token, in
 * order. Like a poll, it keeps the WAITING entries of open streams alive.
 */
export const POLL_MANY = roomScript(`
local now = clock()
local idleMs, windowMs = tonumber(ARGV[1]), tonumber(ARGV[2])
startIfDue(k, now, tonumber(ARGV[3]))
local entries = {}
for i = 4, #ARGV do entries[#entries + 1] = pollEntry(k, ARGV[i], now, idleMs, windowMs) end
return entries
`);

/**
 * The guard's check, read-only. ARGV token, idleMs.
 * Reply {0} (not live), {1, userId} (WAITING) or {2, userId} (ACTIVE).
 */
export const INSPECT = roomScript(`
local token, idleMs = ARGV[1], tonumber(ARGV[2])
local userId = redis.call('HGET', k.owners, token)
if not userId then return {0} end
local state = liveState(k, token, clock(), idleMs)
if state == 0 then return {0} end
return {state, userId}
`);

/**
 * One room's admission step. ARGV maxActive, perSecond, ttlMs, windowMs, idleMs,
 * admissionStartsAtMs, shuffleAtMs, limit. In order: frees the slots of expired ACTIVE tokens and
 * drops idle WAITING ones (at most `limit` each), starts the room if due, then admits the head of
 * the line, never before the admission start. The budget is taken from the live state, so
 * runners firing together on several instances simply find less (or nothing) left to do:
 *   budget = min(maxActive - live ACTIVE, perSecond - admitted in this Redis second)
 * Reply {expired, dropped, admitted, started(0|1), waiting, active, admittedInWindow, now}.
 */
export const TICK = roomScript(`
local maxActive, perSecond = tonumber(ARGV[1]), tonumber(ARGV[2])
local ttlMs, windowMs, idleMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local admissionStartsAtMs, shuffleAtMs, limit = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local now = clock()

local expired = redis.call('ZRANGEBYSCORE', k.active, '-inf', now, 'LIMIT', 0, limit)
for _, token in ipairs(expired) do
  redis.call('ZREM', k.active, token)
  forgetOwner(k, token)
end
local idle = redis.call('ZRANGEBYSCORE', k.seen, '-inf', now - idleMs, 'LIMIT', 0, limit)
for _, token in ipairs(idle) do
  redis.call('ZREM', k.waiting, token)
  redis.call('ZREM', k.preQueue, token)
  redis.call('ZREM', k.seen, token)
  forgetOwner(k, token)
end
local started = startIfDue(k, now, shuffleAtMs)

redis.call('ZREMRANGEBYSCORE', k.admitted, '-inf', now - windowMs)
local live = redis.call('ZCOUNT', k.active, '(' .. now, '+inf')
local admitted = 0
if admissionStartsAtMs < 0 or now >= admissionStartsAtMs then
  local thisSecond = redis.call('ZCOUNT', k.admitted, now - now % 1000, '+inf')
  local budget = math.min(maxActive - live, perSecond - thisSecond)
  if budget > 0 then
    local expires = now + ttlMs
    for _, token in ipairs(redis.call('ZRANGE', k.waiting, 0, budget - 1)) do
      -- An entry past its idle limit beyond this run's drop batch is skipped, never admitted.
      if polledWithin(k, token, now, idleMs) then
        redis.call('ZREM', k.waiting, token)
        redis.call('ZREM', k.seen, token)
        redis.call('ZADD', k.active, expires, token)
        redis.call('ZADD', k.admitted, now, token)
        admitted = admitted + 1
      end
    end
  end
end
local waiting = redis.call('ZCARD', k.waiting) + redis.call('ZCARD', k.preQueue)
local inWindow = redis.call('ZCOUNT', k.admitted, '(' .. (now - windowMs), '+inf')
return {#expired, #idle, admitted, started, waiting, live + admitted, inWindow, now}
`);

/**
 * KEYS room keys + retired(token); ARGV token, knownOwner (or ''), retainSeconds. Ends the token
 * wherever it is and leaves a tombstone naming its owner. Reply: 1 when the token was still on
 * record, else 0.
 */
export const RETIRE = roomScript(
  `
local retiredKey = KEYS[${ROOM_KEY_COUNT + 1}]
local token, knownOwner, retainSeconds = ARGV[1], ARGV[2], ARGV[3]
local owner = redis.call('HGET', k.owners, token)
local onRecord = 0
if owner then
  forget(k, token, owner)
  onRecord = 1
elseif knownOwner ~= '' then
  owner = knownOwner
end
if owner then redis.call('SET', retiredKey, owner, 'EX', retainSeconds) end
return onRecord
`,
  1,
);

/** ARGV windowMs. Reply {waiting (line + pre-queue), live ACTIVE, admitted in the window}. */
export const STATS = roomScript(`
local now = clock()
local windowMs = tonumber(ARGV[1])
return {
  redis.call('ZCARD', k.waiting) + redis.call('ZCARD', k.preQueue),
  redis.call('ZCOUNT', k.active, '(' .. now, '+inf'),
  redis.call('ZCOUNT', k.admitted, '(' .. (now - windowMs), '+inf'),
}
`);

/**
 * KEYS registry; ARGV concertId, lastJoinBeforeMs. Takes an emptied room off the job's list, but
 * only if nobody registered it since (a join re-registers its room before it joins).
 */
export const UNREGISTER_ROOM: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
`,
};

export const QUEUE_SCRIPTS = {
  queueJoin: JOIN,
  queuePoll: POLL,
  queuePollMany: POLL_MANY,
  queueInspect: INSPECT,
  queueTick: TICK,
  queueRetire: RETIRE,
  queueStats: STATS,
  queueUnregisterRoom: UNREGISTER_ROOM,
} as const;
