import { QueueConfig } from '../../../common/config/configuration';
import { QueueEntry, RoomTick } from './queue-entry';
import { QueueRepository, TokenHolder } from './queue.repository';
import { QueueService } from './queue.service';
import { newQueueToken } from './queue-token';
import { RoomSettings, RoomStats, StoredRoomSettings, UNCONFIGURED_ROOM } from './waiting-room';
import { WaitingRoomRepository } from './waiting-room.repository';
import { WaitingRoomService } from './waiting-room.service';
import { codeOf } from '../../../../test/support/assertions';

const USER = '5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11';
const TOKEN = newQueueToken(7);

/** A store that answers what each test sets up and records what it was asked. */
class FakeQueueRepository extends QueueRepository {
  calls: string[] = [];
  holder: TokenHolder | null = null;
  polled: QueueEntry | null = null;
  joinAnswer: 'not-open' | null = null;
  rooms: number[] = [];
  tickAnswers = new Map<number, Partial<RoomTick> | Error>();
  retired = new Map<string, string>();
  unregistered: number[] = [];

  findLiveEntryOfUser(): Promise<QueueEntry | null> {
    return Promise.resolve(null);
  }
  join(userId: string, token: string, _sortKey: number, room: RoomSettings) {
    this.calls.push(`join ${userId} room ${room.concertId}`);
    if (this.joinAnswer) return Promise.resolve(this.joinAnswer);
    const entry: QueueEntry = {
      status: 'WAITING',
      token,
      userId,
      concertId: room.concertId,
      position: 1,
      admission: {
        nowMs: 0,
        activeCount: 0,
        admittedInWindow: 0,
        oldestAdmissionMs: null,
        preQueueSize: 0,
      },
    };
    return Promise.resolve({ entry, created: true });
  }
  poll(token: string, room: RoomSettings): Promise<QueueEntry | null> {
    this.calls.push(`poll ${token} room ${room.concertId}`);
    return Promise.resolve(this.polled);
  }
  pollMany(): Promise<(QueueEntry | null)[]> {
    return Promise.resolve([]);
  }
  inspect(token: string, room: RoomSettings): Promise<TokenHolder | null> {
    this.calls.push(`inspect ${token} room ${room.concertId}`);
    return Promise.resolve(this.holder);
  }
  tick(room: RoomSettings): Promise<RoomTick> {
    const answer = this.tickAnswers.get(room.concertId) ?? {};
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve({
      concertId: room.concertId,
      expired: 0,
      dropped: 0,
      admitted: 0,
      started: false,
      waiting: 1,
      active: 0,
      admittedLastMinute: 0,
      nowMs: 5_000_000,
      ...answer,
    });
  }
  retire(token: string, concertId: number, knownOwner: string | null): Promise<boolean> {
    this.calls.push(`retire ${token} room ${concertId}`);
    if (knownOwner) this.retired.set(token, knownOwner);
    return Promise.resolve(true);
  }
  findRetiredOwner(token: string): Promise<string | null> {
    return Promise.resolve(this.retired.get(token) ?? null);
  }
  stats(): Promise<RoomStats> {
    return Promise.resolve({ waiting: 0, active: 0, admittedLastMinute: 0 });
  }
  registerRoom(concertId: number): Promise<void> {
    this.calls.push(`register ${concertId}`);
    return Promise.resolve();
  }
  listRooms(): Promise<number[]> {
    return Promise.resolve(this.rooms);
  }
  unregisterRoom(concertId: number): Promise<void> {
    this.unregistered.push(concertId);
    return Promise.resolve();
  }
}

class FakeWaitingRoomRepository extends WaitingRoomRepository {
  stored = new Map<number, StoredRoomSettings>();
  findStored(ids: number[]): Promise<Map<number, StoredRoomSettings>> {
    return Promise.resolve(
      new Map(ids.filter((id) => this.stored.has(id)).map((id) => [id, this.stored.get(id)!])),
    );
  }
  save(concertId: number, settings: StoredRoomSettings): Promise<void> {
    this.stored.set(concertId, settings);
    return Promise.resolve();
  }
}

const config: QueueConfig = {
  maxActiveUsers: 2,
  admitPerSecond: 5,
  activeTtlSeconds: 600,
  waitingIdleSeconds: 120,
  sseMaxStreams: 10,
};

describe('QueueService', () => {
  let store: FakeQueueRepository;
  let settings: FakeWaitingRoomRepository;
  let rooms: WaitingRoomService;
  let queue: QueueService;

  beforeEach(() => {
    store = new FakeQueueRepository();
    settings = new FakeWaitingRoomRepository();
    rooms = new WaitingRoomService(settings, config);
    queue = new QueueService(store, rooms);
  });

  describe('authorizeActive', () => {
    it("should let an ACTIVE token through with its user and its room's concert", async () => {
      store.holder = { userId: USER, status: 'ACTIVE' };
      await expect(queue.authorizeActive(TOKEN, USER)).resolves.toEqual({
        token: TOKEN,
        userId: USER,
        concertId: 7,
      });
      expect(store.calls).toEqual([`inspect ${TOKEN} room 7`]);
    });

    it('should answer QUEUE_TOKEN_NOT_ACTIVE when the token is WAITING', async () => {
      store.holder = { userId: USER, status: 'WAITING' };
      expect(await codeOf(queue.authorizeActive(TOKEN, USER))).toBe('QUEUE_TOKEN_NOT_ACTIVE');
    });

    it('should answer QUEUE_TOKEN_INVALID when the token is live but another user owns it', async () => {
      for (const status of ['ACTIVE', 'WAITING'] as const) {
        store.holder = { userId: USER, status };
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

  describe('assertGrants', () => {
    it('should pass for the token’s own concert and refuse any other with 403 QUEUE_TOKEN_OTHER_CONCERT', () => {
      expect(() => queue.assertGrants({ concertId: 7 }, 7)).not.toThrow();
      expect(() => queue.assertGrants({ concertId: 7 }, 8)).toThrow(
        expect.objectContaining({ code: 'QUEUE_TOKEN_OTHER_CONCERT' }),
      );
    });
  });

  describe('join', () => {
    it('should register the room, then join with a fresh token of that room', async () => {
      const { ticket, created } = await queue.join(USER, 42);
      expect(created).toBe(true);
      expect(ticket).toMatchObject({ userId: USER, concertId: 42, status: 'WAITING' });
      expect(ticket.token).toMatch(/^42\.[0-9a-f-]{36}$/);
      expect(store.calls).toEqual(['register 42', `join ${USER} room 42`]);
    });

    it('should answer WAITING_ROOM_NOT_OPEN when the store finds the room not open yet', async () => {
      store.joinAnswer = 'not-open';
      expect(await codeOf(queue.join(USER, 42))).toBe('WAITING_ROOM_NOT_OPEN');
    });
  });

  describe('status', () => {
    it('should poll the normalised token in its own room and answer QUEUE_TOKEN_INVALID when it is gone', async () => {
      expect(await codeOf(queue.status(TOKEN.toUpperCase()))).toBe('QUEUE_TOKEN_INVALID');
      expect(store.calls).toEqual([`poll ${TOKEN} room 7`]);
    });
  });

  describe('retireToken and findRetiredTokenOwner', () => {
    it('should retire the token in its room with the owner the caller knows', async () => {
      await queue.retireToken(TOKEN, USER);
      expect(store.calls).toEqual([`retire ${TOKEN} room 7`]);
      await expect(queue.findRetiredTokenOwner(TOKEN)).resolves.toBe(USER);
    });

    it('should answer null for a malformed token without asking the store', async () => {
      await expect(queue.findRetiredTokenOwner('nope')).resolves.toBeNull();
      expect(store.calls).toEqual([]);
    });
  });

  describe('admitAllRooms', () => {
    it('should tick every room, keep going past a failing one, and unregister the empty ones', async () => {
      store.rooms = [1, 2, 3];
      store.tickAnswers.set(1, { admitted: 2 });
      store.tickAnswers.set(2, new Error('boom'));
      store.tickAnswers.set(3, { waiting: 0, active: 0 });
      const { ticks, failed } = await queue.admitAllRooms();
      expect(ticks.map((tick) => [tick.concertId, tick.admitted])).toEqual([
        [1, 2],
        [3, 0],
      ]);
      expect(failed).toBe(1);
      expect(store.unregistered).toEqual([3]);
    });
  });
});

describe('WaitingRoomService', () => {
  it('should fill unset settings from the environment and refuse a start before the opening', async () => {
    const settings = new FakeWaitingRoomRepository();
    const rooms = new WaitingRoomService(settings, config);
    await expect(rooms.settingsOf(5)).resolves.toMatchObject({
      concertId: 5,
      maxActiveUsers: 2,
      order: 'FIFO',
      opensAt: null,
    });
    const opensAt = new Date('2030-01-01T10:00:00Z');
    await expect(
      rooms.configure(5, {
        ...UNCONFIGURED_ROOM,
        opensAt,
        admissionStartsAt: new Date('2030-01-01T09:00:00Z'),
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await rooms.configure(5, {
      ...UNCONFIGURED_ROOM,
      maxActiveUsers: 50,
      order: 'RANDOM_AT_START',
    });
    await expect(rooms.settingsOf(5)).resolves.toMatchObject({
      maxActiveUsers: 50,
      admitPerSecond: 5,
      order: 'RANDOM_AT_START',
    });
  });

  it("should pick up another instance's change on its next refresh", async () => {
    const settings = new FakeWaitingRoomRepository();
    const here = new WaitingRoomService(settings, config);
    const there = new WaitingRoomService(settings, config);
    await here.settingsOf(9);
    await there.configure(9, { ...UNCONFIGURED_ROOM, admitPerSecond: 77 });
    await expect(here.settingsOf(9)).resolves.toMatchObject({ admitPerSecond: 5 });
    await here.refresh();
    await expect(here.settingsOf(9)).resolves.toMatchObject({ admitPerSecond: 77 });
  });
});
