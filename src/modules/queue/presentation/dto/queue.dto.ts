import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches } from 'class-validator';
import { QueueTicket } from '../../domain/queue-entry';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export class IssueTokenRequest {
  @ApiProperty({ format: 'uuid', example: '5b0f3b1e-8a3c-4a57-9a1e-2f0d6c8b9e11' })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  )
  @IsString()
  @Matches(UUID, { message: 'userId must be a UUID' })
  userId!: string;
}

export class QueueTicketResponse {
  @ApiProperty({
    format: 'uuid',
    description: 'Opaque; send it as the Queue-Token header. Only its holder can use it.',
  })
  token!: string;

  @ApiProperty({ format: 'uuid' }) userId!: string;

  @ApiProperty({ enum: ['WAITING', 'ACTIVE'] }) status!: 'WAITING' | 'ACTIVE';

  @ApiProperty({
    minimum: 0,
    example: 42,
    description: '1-based among WAITING users; 0 when ACTIVE',
  })
  position!: number;

  @ApiProperty({
    minimum: 0,
    example: 12,
    description:
      'From the position and the admission rate actually achieved over the last minute; 0 when ACTIVE',
  })
  estimatedWaitSeconds!: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the ACTIVE token expires; null while WAITING',
  })
  activeUntil!: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 1,
    example: 3,
    description:
      'Poll hint: seconds to wait before the next GET /queue/status (also sent as the ' +
      '`Retry-After` header). 1 s near the front, longer further back, always short enough ' +
      'that following it keeps the entry from being dropped as idle. Null when ACTIVE.',
  })
  pollAfterSeconds!: number | null;

  static from(ticket: QueueTicket): QueueTicketResponse {
    return {
      token: ticket.token,
      userId: ticket.userId,
      status: ticket.status,
      position: ticket.position,
      estimatedWaitSeconds: ticket.estimatedWaitSeconds,
      activeUntil: ticket.activeUntil?.toISOString() ?? null,
      pollAfterSeconds: ticket.pollAfterSeconds,
    };
  }
}
