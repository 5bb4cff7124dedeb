import cluster from 'node:cluster';
import http from 'node:http';
if (cluster.isPrimary) {
  cluster.fork();
} else {
  const server = http.createServer((req, res) => {
    const end = performance.now() + Number(process.env.COST ?? 0.15);
    while (performance.now() < end);
    res.end('ok');
  });
  server.listen({ port: 3197, backlog: 4096 });
}
