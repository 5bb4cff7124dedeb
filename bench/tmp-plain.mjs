import http from 'node:http';
const server = http.createServer((req, res) => {
  const end = performance.now() + Number(process.env.COST ?? 0.15);
  while (performance.now() < end);
  res.end('ok');
});
server.listen({ port: 3198, backlog: 4096 });
