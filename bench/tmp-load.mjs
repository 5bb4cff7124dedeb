import autocannon from 'autocannon';
const t0 = Date.now();
const events = [];
let n = 0;
const r = await autocannon({
  url: process.argv[2],
  connections: 1000,
  duration: 10,
  timeout: 10,
  setupClient: (client) => {
    const id = n++;
    let responses = 0;
    client.on('response', () => responses++);
    client.on('timeout', () => events.push({ id, at: Date.now() - t0, responses }));
  },
});
console.log(
  'rps',
  r.requests.average,
  'timeouts',
  r.timeouts,
  'max',
  r.latency.max,
  'starved',
  events.filter((e) => e.responses === 0).length,
);
