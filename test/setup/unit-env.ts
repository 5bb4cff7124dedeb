// The unit tier promises to need no server. Pointing every server address at a closed port makes
// a spec that reaches for MySQL, Redis or RabbitMQ fail at once (ECONNREFUSED) instead of passing
// on a developer machine where those happen to run; such a spec belongs in test/integration.
const CLOSED = '127.0.0.1:1';

process.env.NODE_ENV = 'test';
process.env.DB_HOST = '127.0.0.1';
process.env.DB_PORT = '1';
process.env.REDIS_URL = `redis://${CLOSED}/0`;
process.env.TEST_AMQP_URL = `amqp://guest:guest@${CLOSED}`;
delete process.env.EVENTS_AMQP_URL;
process.env.LOG_LEVEL ??= 'silent';
