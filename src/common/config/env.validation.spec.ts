import { validateEnvironment } from './env.validation';

describe('validateEnvironment', () => {
  it('should apply the contract defaults when nothing is set', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      PORT: 3000,
      DB_HOST: '127.0.0.1',
      DB_PORT: 3306,
      DB_USER: 'root',
      DB_PASSWORD: '',
      DB_NAME: 'concert',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      QUEUE_MAX_ACTIVE_USERS: 1000,
      QUEUE_ADMIT_PER_SECOND: 100,
      QUEUE_ACTIVE_TTL_SECONDS: 600,
      QUEUE_WAITING_IDLE_SECONDS: 120,
      RESERVATION_HOLD_SECONDS: 300,
      RESERVATION_MAX_HOLDS_PER_USER: 4,
    });
    expect(env.ADMIN_API_KEY).toBeUndefined();
  });

  it('should parse numbers given as strings', () => {
    expect(validateEnvironment({ PORT: '8080', QUEUE_MAX_ACTIVE_USERS: '2' })).toMatchObject({
      PORT: 8080,
      QUEUE_MAX_ACTIVE_USERS: 2,
    });
  });

  it('should name every bad key in one error', () => {
    expect(() =>
      validateEnvironment({
        PORT: 'eighty',
        REDIS_URL: 'localhost:6379',
        RESERVATION_HOLD_SECONDS: '0',
      }),
    ).toThrow(/PORT="eighty"[\s\S]*REDIS_URL="localhost:6379"[\s\S]*RESERVATION_HOLD_SECONDS=0/);
  });

  it('should treat an empty value as unset', () => {
    expect(validateEnvironment({ PORT: '' }).PORT).toBe(3000);
  });
});
