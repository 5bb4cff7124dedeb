import autocannon from 'autocannon';
import { api, startServer } from './lib.mjs';
const server = await startServer({
  port: 3199,
  cpu: 0,
  env: {
    QUEUE_MAX_ACTIVE_USERS: '100',
    QUEUE_ADMIT_PER_SECOND: '100',
    QUEUE_WAITING_IDLE_SECONDS: '900',
    REDIS_KEY_PREFIX: 'tmpover:',
  },
});
const tokens = [];
for (let i = 0; i < 200; i++) {
  const u = await api(server.url, 'POST', '/users', { name: 'o' + i });
  const t = await api(server.url, 'POST', '/queue/tokens', { userId: u.body.id });
  tokens.push(t.body.token);
}
let next = 0;
const t0 = Date.now();
const events = [];
let n = 0;
const inst = autocannon({
  url: server.url,
  connections: 1000,
  duration: 10,
  timeout: 10,
  requests: [
    {
      method: 'GET',
      path: '/queue/status',
      setupRequest: (r) => ({
        ...r,
        headers: { ...r.headers, 'queue-token': tokens[next++ % tokens.length] },
      }),
    },
  ],
  setupClient: (client) => {
    const id = n++;
    let responses = 0;
    client.on('response', () => responses++);
    client.on('timeout', () => events.push({ id, at: Date.now() - t0, responses }));
    client.on('connError', (e) => events.push({ id, at: Date.now() - t0, err: e.code }));
  },
});
const r = await inst;
console.log('timeouts', r.timeouts, 'errors', r.errors, 'max', r.latency.max);
console.log(JSON.stringify(events.slice(0, 40)));
await server.stop();
