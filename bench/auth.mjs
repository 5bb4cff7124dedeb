// What accounts cost, each figure from the same run:
//  - the bearer check of every [user] request: µs per call of the service's own compiled code
//    (AuthenticationService.authenticate → JoseAccessTokenCodec.verify: header parse, JWS header
//    decode, jose jwtVerify HS256 with the service's options; the known-user lookup stubbed as the
//    in-memory hit it is after a user's first request), and of bare jose jwtVerify, measured in
//    this process one call at a time (bench/run.mjs turns it into a share of each load's API CPU
//    per request);
//  - argon2id: µs per hash and per verify with the service's parameters, measured directly;
//  - the login rate: POST /auth/tokens with correct passwords, 50 connections, on the runner's
//    server, then on one with UV_THREADPOOL_SIZE=8 (pinned like it), then on one not pinned;
//  - status polls during a login burst: poll req/s and p99 with logins running and without.
// Usage: npm run build && node bench/auth.mjs   (env: BENCH_DURATION seconds, default 10)
import { jwtVerify } from 'jose';
import { execFile } from 'node:child_process';
import { createSecretKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  api,
  APP_ROOT,
  insertUsers,
  JWT_AUDIENCE,
  JWT_ISSUER,
  JWT_SECRET,
  load,
  median,
  mintAccessToken,
  POLL_LINE_ENV,
  pollRequests,
  queueLine,
  roundTo,
  runStandalone,
  startServer,
  tokenRequests,
  waitForIdleServers,
} from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 50;
const LOGIN_CONNECTIONS = 50;
const LOGIN_USERS = 500;
const POLL_USERS = 1000;
const PASSWORD = 'bench-password-0123456789';

/** The service's defaults unless the environment sets them (the servers read the same). */
export const ARGON2 = {
  memoryKib: Number(process.env.AUTH_ARGON2_MEMORY_KIB ?? 19_456),
  timeCost: Number(process.env.AUTH_ARGON2_TIME_COST ?? 2),
  parallelism: Number(process.env.AUTH_ARGON2_PARALLELISM ?? 1),
};
const ARGON2_LABEL = `argon2id m=${ARGON2.memoryKib} KiB t=${ARGON2.timeCost} p=${ARGON2.parallelism}`;

/**
 * A realistic line for the polls (a few ACTIVE, most WAITING), as in the runner's poll
 * comparison; logins are never counted as failures (each one is right, and is reset anyway).
 */
export const serverEnv = POLL_LINE_ENV;

const appRequire = createRequire(join(APP_ROOT, 'package.json'));
const dist = join(APP_ROOT, 'dist');

const round = (value) => roundTo(value, 1);

/**
 * µs per call of `fn`, `calls` sequential awaited calls per round, median of `rounds` rounds:
 * `wallUs`, the time each call takes to come back, and `cpuUs`, the CPU the process spent per
 * call on all its threads. jose 6 verifies through WebCrypto, whose HMAC runs as a job on libuv's
 * thread pool: the wall time includes the hop there and back, the CPU time is what a request
 * costs the box.
 */
async function microsPerCall(fn, { warmup = 3000, rounds = 5, calls = 4000 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const wall = [];
  const cpu = [];
  for (let r = 0; r < rounds; r++) {
    const cpuBefore = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await fn();
    wall.push(Number(process.hrtime.bigint() - start) / 1000 / calls);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / calls);
  }
  return { wallUs: round(median(wall)), cpuUs: round(median(cpu)) };
}

/** µs per bearer check: the service's compiled code, and jose's jwtVerify alone. */
export async function measureBearerCheck() {
  appRequire('reflect-metadata');
  const { JoseAccessTokenCodec } = appRequire(
    join(dist, 'modules/auth/infrastructure/jose-access-token.codec.js'),
  );
  const { AuthenticationService } = appRequire(
    join(dist, 'modules/auth/domain/authentication.service.js'),
  );
  const config = {
    jwtSecret: JWT_SECRET,
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    tokenTtlSeconds: 3600,
    jwks: undefined,
  };
  const codec = new JoseAccessTokenCodec(config);
  // After a user's first request the service answers "is this a user" from an in-memory set.
  const authentication = new AuthenticationService(codec, { userExists: async () => true });
  const userId = '6f1c1f4e-8f0b-4c3e-9a57-2b1d0c9e7a11';
  const token = await mintAccessToken(userId);
  const header = `Bearer ${token}`;
  if ((await authentication.authenticate(header)).id !== userId) {
    throw new Error('the compiled bearer check did not accept a minted token');
  }
  const secret = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));
  const options = {
    algorithms: ['HS256'],
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    clockTolerance: 30,
    requiredClaims: ['exp', 'sub'],
  };
  const service = await microsPerCall(() => authentication.authenticate(header));
  const jose = await microsPerCall(() => jwtVerify(token, secret, options));
  return {
    authenticateUs: service.cpuUs,
    authenticateWallUs: service.wallUs,
    joseVerifyUs: jose.cpuUs,
    joseVerifyWallUs: jose.wallUs,
    tokenBytes: token.length,
  };
}

/** µs per argon2id hash and verify with the service's parameters, one at a time. */
export async function measureArgon2(count = 10) {
  const argon2 = appRequire('argon2');
  const options = {
    type: argon2.argon2id,
    memoryCost: ARGON2.memoryKib,
    timeCost: ARGON2.timeCost,
    parallelism: ARGON2.parallelism,
  };
  let hash = await argon2.hash(PASSWORD, options); // warm-up
  const timeEach = async (fn) => {
    const times = [];
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint();
      await fn();
      times.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    times.sort((a, b) => a - b);
    return Math.round(times[Math.floor(times.length / 2)]);
  };
  const hashUs = await timeEach(async () => {
    hash = await argon2.hash(PASSWORD, options);
  });
  const verifyUs = await timeEach(async () => {
    if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2 verify failed');
  });
  return { hash, hashUs, verifyUs };
}

function loginRequests(bodies) {
  let next = 0;
  return [
    {
      method: 'POST',
      path: '/auth/tokens',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
    },
  ];
}

const threadsOf = (env) => Number(env.UV_THREADPOOL_SIZE ?? 4);

function loginLoad(url, bodies, duration, label) {
  return load(`login, ${LOGIN_CONNECTIONS} connections (${ARGON2_LABEL}; ${label})`, {
    url,
    duration,
    connections: LOGIN_CONNECTIONS,
    timeout: 20,
    requests: loginRequests(bodies),
  });
}

/** A second server like the runner's, for another thread-pool size or pinning. */
async function withServer({ env, cpu }, fn) {
  const server = await startServer({ port: 3160, cpu, env });
  try {
    return await fn(server.url);
  } finally {
    await server.stop();
  }
}

/**
 * `serverEnv`/`serverCpu`: how the runner started the server at `url` (a second one is started
 * the same way for the thread-pool comparison).
 */
/**
 * The micro-benchmarks run in a fresh Node process on the server's core while the server idles:
 * the generator's own heap (tens of thousands of fans, every latency) and its GC would inflate
 * them.
 */
async function measureInChild(serverCpu) {
  const script = fileURLToPath(import.meta.url);
  const [command, commandArgs] =
    serverCpu === undefined
      ? ['node', [script, '--measure']]
      : ['taskset', ['-c', String(serverCpu), 'node', script, '--measure']];
  const { stdout } = await promisify(execFile)(command, commandArgs, {
    env: process.env,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout);
}

/**
 * `serverEnv`/`serverCpu`: how the runner started the server at `url` (a second one is started
 * the same way for the thread-pool comparison).
 */
export async function run({ url, duration = DURATION, serverEnv: env = {}, serverCpu }) {
  const rows = [];
  console.error('[bench:auth] bearer check and argon2id, measured in a fresh process');
  const { bearer, argon } = await measureInChild(serverCpu);

  console.error(`[bench:auth] ${LOGIN_USERS} login users, ${POLL_USERS} pollers`);
  const loginUsers = await insertUsers(LOGIN_USERS, 'auth-bench', { passwordHash: argon.hash });
  const bodies = loginUsers.map((u) => JSON.stringify({ email: u.email, password: PASSWORD }));
  const check = await api(url, 'POST', '/auth/tokens', JSON.parse(bodies[0]));
  if (check.status !== 200 || check.body?.tokenType !== 'Bearer') {
    throw new Error(`login answered ${check.status}: ${JSON.stringify(check.body)}`);
  }
  const {
    concertId,
    users: pollers,
    tokens,
  } = await queueLine(url, { title: 'Auth bench', label: 'auth-poller', count: POLL_USERS });
  await sleep(1500); // the admission job lets the first users in: a mixed line

  const pinned = serverCpu === undefined ? 'not pinned' : `pinned to CPU ${serverCpu}`;
  const threads = threadsOf({ ...process.env, ...env });
  const login = await loginLoad(url, bodies, duration, `UV_THREADPOOL_SIZE=${threads}, ${pinned}`);
  rows.push(login);
  await waitForIdleServers();

  // A load alone, then the same load while 50 connections log in back to back.
  const aloneAndDuringLogins = async (name, requests) => {
    const alone = await load(`${name}, no login running`, {
      url,
      duration,
      connections: CONNECTIONS,
      requests: requests(),
    });
    const [during, logins] = await Promise.all([
      load(`${name}, during a login burst (${LOGIN_CONNECTIONS} login connections)`, {
        url,
        duration,
        connections: CONNECTIONS,
        requests: requests(),
      }),
      load(`login during the load above (${LOGIN_CONNECTIONS} connections)`, {
        url,
        duration,
        connections: LOGIN_CONNECTIONS,
        timeout: 20,
        requests: loginRequests(bodies),
      }),
    ]);
    // The two ran at once: one CPU figure covers both, shown on the first.
    delete logins.cpu;
    rows.push(alone, during, logins);
    await waitForIdleServers();
    return { alone, during, logins };
  };
  // The status poll takes no bearer; the re-join (POST /queue/tokens by a user who holds a live
  // token: bearer check, then Redis only) is the cheapest request that does.
  const poll = await aloneAndDuringLogins('status poll', () => pollRequests(tokens));
  const rejoin = await aloneAndDuringLogins('re-join of the line by returning users (bearer)', () =>
    tokenRequests(pollers, concertId),
  );

  const logins = [{ threads, pinned: serverCpu !== undefined, row: login }];
  console.error('[bench:auth] login rate with UV_THREADPOOL_SIZE=8');
  const eight = await withServer(
    { env: { ...env, UV_THREADPOOL_SIZE: '8' }, cpu: serverCpu },
    (u) => loginLoad(u, bodies, duration, `UV_THREADPOOL_SIZE=8, ${pinned}`),
  );
  rows.push(eight);
  logins.push({ threads: 8, pinned: serverCpu !== undefined, row: eight });
  if (serverCpu !== undefined) {
    console.error(`[bench:auth] login rate, server not pinned (UV_THREADPOOL_SIZE=${threads})`);
    const free = await withServer({ env, cpu: 'all' }, (u) =>
      loginLoad(u, bodies, duration, `UV_THREADPOOL_SIZE=${threads}, not pinned`),
    );
    rows.push(free);
    logins.push({ threads, pinned: false, row: free });
  }

  const brief = (row) => ({ rps: row.rps, p50: row.p50, p99: row.p99, statuses: row.statuses });
  rows.summary = {
    bearer,
    argon2: { ...ARGON2, hashUs: argon.hashUs, verifyUs: argon.verifyUs },
    logins: logins.map(({ row, ...rest }) => ({ ...rest, ...brief(row) })),
    loginConnections: LOGIN_CONNECTIONS,
    pollConnections: CONNECTIONS,
    pollAlone: brief(poll.alone),
    pollDuringLogin: brief(poll.during),
    loginDuringPoll: brief(poll.logins),
    rejoinAlone: brief(rejoin.alone),
    rejoinDuringLogin: brief(rejoin.during),
    loginDuringRejoin: brief(rejoin.logins),
  };
  return rows;
}

export function summaryLines(s) {
  const logins = s.logins
    .map(
      (l) =>
        `${l.rps}/s with UV_THREADPOOL_SIZE=${l.threads}${l.pinned ? ', pinned to one core' : ', not pinned'} ` +
        `(p50 ${l.p50} ms, p99 ${l.p99} ms)`,
    )
    .join('; ');
  const pair = (what, alone, during, logins) =>
    `${what} (${s.pollConnections} connections): ${alone.rps} req/s, p99 ${alone.p99} ms without ` +
    `logins; ${during.rps} req/s, p99 ${during.p99} ms during a login burst of ` +
    `${s.loginConnections} connections (${logins.rps} logins/s meanwhile); statuses during the ` +
    `burst ${JSON.stringify(during.statuses)}`;
  return [
    `bearer check: ${s.bearer.authenticateUs} µs of CPU per call of the service's compiled ` +
      `AuthenticationService.authenticate (HS256, ${s.bearer.tokenBytes}-byte token; ` +
      `${s.bearer.authenticateWallUs} µs until it resolves, a WebCrypto job on the libuv thread ` +
      `pool), of which jose jwtVerify alone ${s.bearer.joseVerifyUs} µs ` +
      `(${s.bearer.joseVerifyWallUs} µs)`,
    `argon2id (m=${s.argon2.memoryKib} KiB, t=${s.argon2.timeCost}, p=${s.argon2.parallelism}): ` +
      `${Math.round(s.argon2.hashUs / 100) / 10} ms per hash, ` +
      `${Math.round(s.argon2.verifyUs / 100) / 10} ms per verify, one at a time`,
    `logins (POST /auth/tokens, correct passwords, ${s.loginConnections} connections): ${logins}`,
    pair('status poll', s.pollAlone, s.pollDuringLogin, s.loginDuringPoll),
    pair(
      're-join by returning users (bearer check + Redis)',
      s.rejoinAlone,
      s.rejoinDuringLogin,
      s.loginDuringRejoin,
    ),
  ];
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--measure')) {
  const bearer = await measureBearerCheck();
  const { hash, hashUs, verifyUs } = await measureArgon2();
  process.stdout.write(JSON.stringify({ bearer, argon: { hash, hashUs, verifyUs } }));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await runStandalone('auth', {
    port: 3104,
    pinGenerator: true,
    serverEnv,
    run,
    after: (rows) => console.log(['', ...summaryLines(rows.summary)].join('\n')),
  });
}
