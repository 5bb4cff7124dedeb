import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { InDateRange, toDate } from '../../../../common/http/iso-date';
import {
  ROOM_ORDERS,
  RoomOrder,
  RoomSettings,
  RoomStats,
  StoredRoomSettings,
} from '../../domain/waiting-room';

const DEFAULT_NOTE = 'Omitted or null: the QUEUE_* environment default.';

/** PUT replaces the room's settings whole: what is left out follows the environment defaults. */
export class ConfigureWaitingRoomRequest {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1_000_000,
    nullable: true,
    description: DEFAULT_NOTE,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxActiveUsers?: number | null;

  @ApiPropertyOptional({ minimum: 1, maximum: 100_000, nullable: true, description: DEFAULT_NOTE })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  admitPerSecond?: number | null;

  @ApiPropertyOptional({ minimum: 10, maximum: 86_400, nullable: true, description: DEFAULT_NOTE })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86_400)
  activeTtlSeconds?: number | null;

  @ApiPropertyOptional({ minimum: 10, maximum: 86_400, nullable: true, description: DEFAULT_NOTE })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86_400)
  waitingIdleSeconds?: number | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Before it, joining answers 409 WAITING_ROOM_NOT_OPEN. Null: open now.',
  })
  @IsOptional()
  @Transform(toDate)
  @IsDate({ message: 'opensAt must be an ISO-8601 date-time with a zone' })
  @InDateRange('opensAt')
  opensAt?: Date | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Nobody is admitted before it (and a RANDOM_AT_START room shuffles at it).',
  })
  @IsOptional()
  @Transform(toDate)
  @IsDate({ message: 'admissionStartsAt must be an ISO-8601 date-time with a zone' })
  @InDateRange('admissionStartsAt')
  admissionStartsAt?: Date | null;

  @ApiPropertyOptional({ enum: ROOM_ORDERS, nullable: true, description: 'Omitted or null: FIFO.' })
  @IsOptional()
  @IsIn(ROOM_ORDERS)
  order?: RoomOrder | null;

  toStored(): StoredRoomSettings {
    return {
      maxActiveUsers: this.maxActiveUsers ?? null,
      admitPerSecond: this.admitPerSecond ?? null,
      activeTtlSeconds: this.activeTtlSeconds ?? null,
      waitingIdleSeconds: this.waitingIdleSeconds ?? null,
      opensAt: this.opensAt ?? null,
      admissionStartsAt: this.admissionStartsAt ?? null,
      order: this.order ?? null,
    };
  }
}

export class WaitingRoomResponse {
  @ApiProperty({ example: 1 }) concertId!: number;
  @ApiProperty({ example: 1000 }) maxActiveUsers!: number;
  @ApiProperty({ example: 100 }) admitPerSecond!: number;
  @ApiProperty({ example: 600 }) activeTtlSeconds!: number;
  @ApiProperty({ example: 120 }) waitingIdleSeconds!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) opensAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  admissionStartsAt!: string | null;
  @ApiProperty({ enum: ROOM_ORDERS }) order!: RoomOrder;

  static from(settings: RoomSettings): WaitingRoomResponse {
    return {
      concertId: settings.concertId,
      maxActiveUsers: settings.maxActiveUsers,
      admitPerSecond: settings.admitPerSecond,
      activeTtlSeconds: settings.activeTtlSeconds,
      waitingIdleSeconds: settings.waitingIdleSeconds,
      opensAt: settings.opensAt?.toISOString() ?? null,
      admissionStartsAt: settings.admissionStartsAt?.toISOString() ?? null,
      order: settings.order,
    };
  }
}

export class WaitingRoomStatsResponse extends WaitingRoomResponse {
  @ApiProperty({ description: 'Users waiting (in line or in the pre-queue)', example: 4200 })
  waiting!: number;
  @ApiProperty({ description: 'ACTIVE tokens now', example: 1000 }) active!: number;
  @ApiProperty({ description: 'Admissions in the last 60 s', example: 5400 })
  admittedLastMinute!: number;

  static withStats(room: RoomSettings & RoomStats): WaitingRoomStatsResponse {
    return {
      ...WaitingRoomResponse.from(room),
      waiting: room.waiting,
      active: room.active,
      admittedLastMinute: room.admittedLastMinute,
    };
  }
}
