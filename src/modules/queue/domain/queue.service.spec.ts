import { DomainError } from '../../../common/errors/domain-error';
import { QueueConfig } from '../../../common/config/configuration';
import { AdmissionLimits } from './admission-policy';
import { ActivePass, QueueCounts, QueueEntry } from './queue-entry';
import { QueueRepository } from './queue.repository';
import { QueueService } from './queue.service';

const TOKEN = '3f0c1b2e-5d4a-4c3b-9a1e-2f0d6c8b9e11';
const USER = '5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11';

/** A fake of our own port: canned answers, recorded calls. */
class FakeQueueRepository extends QueueRepository {
  calls: string[] = [];
  inspected: (ActivePass & { status: 'WAITING' | 'ACTIVE' }) | null = null;
  polled: QueueEntry | null = null;
  retired = new Map<string, string>();
  cleanupBatches: number[] = [];

  findLiveEntryOfUser(): Promise<QueueEntry | null> {
    return Promise.resolve(null);
  }
  join(
    userId: string,
    concertId: number,
    token: string,
  ): Promise<{ entry: QueueEntry; created: boolean }> {
    this.calls.push(`join ${userId} ${concertId}`);
    return Promise.resolve({
      entry: { status: 'ACTIVE', token, userId, concertId, activeUntil: new Date() },
      created: true,
    });
  }
  poll(token: string): Promise<QueueEntry | null> {
    this.calls.push(`poll ${token}`);
    return Promise.resolve(this.polled);
  }
  inspect(token: string) {
    this.calls.push(`inspect ${token}`);
    return Promise.resolve(this.inspected);
  }
  expireActive(): Promise<number> {
    return Promise.resolve(this.cleanupBatches.shift() ?? 0);
  }
  dropIdle(): Promise<number> {
    return Promise.resolve(0);
  }
  admit(limits: AdmissionLimits): Promise<number> {
    this.calls.push(`admit ${limits.maxActiveUsers}/${limits.admitPerSecond}`);
    return Promise.resolve(0);
  }
  retire(token: string, knownOwner: string | null): Promise<boolean> {
    this.calls.push(`retire ${token} ${knownOwner}`);
    if (knownOwner) this.retired.set(token, knownOwner);
    return Promise.resolve(true);
  }
  findRetiredOwner(token: string): Promise<string | null> {
    this.calls.push(`retired? ${token}`);
    return Promise.resolve(this.retired.get(token) ?? null);
  }
  counts(): Promise<QueueCounts> {
    return Promise.resolve({ waiting: 0, active: 0 });
  }
}

const config: QueueConfig = {
  maxActiveUsers: 2,
  admitPerSecond: 5,
  activeTtlSeconds: 600,
  waitingIdleSeconds: 120,
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof DomainError ? error.code : 'other error';
  }
}

describe('QueueService', () => {
  let store: FakeQueueRepository;
  let queue: QueueService;

  beforeEach(() => {
    store = new FakeQueueRepository();
    queue = new QueueService(store, config);
  });

  describe('authorizeActive', () => {
    it('should let an ACTIVE token through with its user and concert', async () => {
      store.inspected = { token: TOKEN, userId: USER, concertId: 7, status: 'ACTIVE' };
      await expect(queue.authorizeActive(TOKEN, USER)).resolves.toEqual({
        token: TOKEN,
        userId: USER,
        concertId: 7,
      });
    });

    it('should answer QUEUE_TOKEN_NOT_ACTIVE when the token is WAITING', async () => {
      store.inspected = { token: TOKEN, userId: USER, concertId: 7, status: 'WAITING' };
      expect(await codeOf(queue.authorizeActive(TOKEN, USER))).toBe('QUEUE_TOKEN_NOT_ACTIVE');
    });

    it('should answer QUEUE_TOKEN_INVALID when the token is live but another user owns it', async () => {
      for (const status of ['ACTIVE', 'WAITING'] as const) {
        store.inspected = { token: TOKEN, userId: USER, concertId: 7, status };
        expect(await codeOf(queue.authorizeActive(TOKEN, 'someone-else'))).toBe(
          'QUEUE_TOKEN_INVALID',
        );
      }
    });

    it('should answer QUEUE_TOKEN_INVALID when the store does not know the token', async () => {
      expect(await codeOf(queue.authorizeActive(TOKEN, USER))).toBe('QUEUE_TOKEN_INVALID');
    });

    it('should answer QUEUE_TOKEN_INVALID without asking the store when the header is junk', async () => {
      for (const raw of [undefined, '', 'x'.repeat(4096), `${TOKEN}\r\nX: y`]) {
        expect(await codeOf(queue.authorizeActive(raw, USER))).toBe('QUEUE_TOKEN_INVALID');
      }
      expect(store.calls).toEqual([]);
    });
  });

  describe('status', () => {
    it('should answer QUEUE_TOKEN_INVALID when the entry is gone', async () => {
      expect(await codeOf(queue.status(TOKEN))).toBe('QUEUE_TOKEN_INVALID');
      expect(store.calls).toEqual([`poll ${TOKEN}`]);
    });

    it('should poll the normalised token', async () => {
      store.polled = {
        status: 'ACTIVE',
        token: TOKEN,
        userId: USER,
        concertId: 7,
        activeUntil: new Date(0),
      };
      await expect(queue.status(TOKEN.toUpperCase())).resolves.toMatchObject({
        status: 'ACTIVE',
        position: 0,
        concertId: 7,
      });
      expect(store.calls).toEqual([`poll ${TOKEN}`]);
    });
  });

  describe('join', () => {
    it('should join with a fresh token recorded for the concert and return it on the ticket', async () => {
      const { ticket, created } = await queue.join(USER, 42);
      expect(created).toBe(true);
      expect(ticket).toMatchObject({ userId: USER, concertId: 42, status: 'ACTIVE' });
      expect(ticket.token).toMatch(/^[0-9a-f-]{36}$/);
      expect(store.calls).toEqual([`join ${USER} 42`]);
    });
  });

  describe('expireToken and findRetiredTokenOwner', () => {
    it('should retire the token with the owner the caller knows', async () => {
      await queue.expireToken(TOKEN, USER);
      expect(store.calls).toEqual([`retire ${TOKEN} ${USER}`]);
      await expect(queue.findRetiredTokenOwner(TOKEN)).resolves.toBe(USER);
    });

    it('should answer null for a malformed token without asking the store', async () => {
      await expect(queue.findRetiredTokenOwner('nope')).resolves.toBeNull();
      expect(store.calls).toEqual([]);
    });
  });

  it('should keep cleaning in batches until one comes back short', async () => {
    store.cleanupBatches = [1000, 1000, 7];
    await expect(queue.expireActiveTokens()).resolves.toBe(2007);
  });

  it('should admit with the configured limits', async () => {
    await queue.admitWaiting();
    expect(store.calls).toEqual(['admit 2/5']);
  });
});
