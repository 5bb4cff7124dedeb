import { Injectable } from '@nestjs/common';
import { TransactionHost } from '../../../common/database/transaction';
import { DB_NOW } from '../../../common/database/sql';
import { RoomOrder, StoredRoomSettings } from '../domain/waiting-room';
import { WaitingRoomRepository } from '../domain/waiting-room.repository';

interface WaitingRoomRow {
  concert_id: number;
  max_active_users: number | null;
  admit_per_second: number | null;
  active_ttl_seconds: number | null;
  waiting_idle_seconds: number | null;
  opens_at: Date | null;
  admission_starts_at: Date | null;
  room_order: RoomOrder | null;
}

@Injectable()
export class WaitingRoomSqlRepository extends WaitingRoomRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  async findStored(concertIds: number[]): Promise<Map<number, StoredRoomSettings>> {
    if (concertIds.length === 0) return new Map();
    const rows = await this.txHost.tx.query<WaitingRoomRow[]>(
      `SELECT concert_id, max_active_users, admit_per_second, active_ttl_seconds,
              waiting_idle_seconds, opens_at, admission_starts_at, room_order
         FROM waiting_rooms WHERE concert_id IN (?)`,
      [concertIds],
    );
    return new Map(rows.map((row) => [Number(row.concert_id), toStored(row)]));
  }

  async save(concertId: number, s: StoredRoomSettings): Promise<void> {
    await this.txHost.tx.query(
      `INSERT INTO waiting_rooms (concert_id, max_active_users, admit_per_second,
              active_ttl_seconds, waiting_idle_seconds, opens_at, admission_starts_at, room_order,
              updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${DB_NOW})
       ON DUPLICATE KEY UPDATE max_active_users = VALUES(max_active_users),
              admit_per_second = VALUES(admit_per_second),
              active_ttl_seconds = VALUES(active_ttl_seconds),
              waiting_idle_seconds = VALUES(waiting_idle_seconds),
              opens_at = VALUES(opens_at), admission_starts_at = VALUES(admission_starts_at),
              room_order = VALUES(room_order), updated_at = VALUES(updated_at)`,
      [
        concertId,
        s.maxActiveUsers,
        s.admitPerSecond,
        s.activeTtlSeconds,
        s.waitingIdleSeconds,
        s.opensAt,
        s.admissionStartsAt,
        s.order,
      ],
    );
  }
}

function toStored(row: WaitingRoomRow): StoredRoomSettings {
  const count = (value: number | null) => (value === null ? null : Number(value));
  return {
    maxActiveUsers: count(row.max_active_users),
    admitPerSecond: count(row.admit_per_second),
    activeTtlSeconds: count(row.active_ttl_seconds),
    waitingIdleSeconds: count(row.waiting_idle_seconds),
    opensAt: row.opens_at,
    admissionStartsAt: row.admission_starts_at,
    order: row.room_order,
  };
}
