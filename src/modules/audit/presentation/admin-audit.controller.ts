import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../../common/http/admin-only.decorator';
import { AuditFacade } from '../application/audit.facade';
import { AuditResponse } from './dto/audit.dto';

@ApiTags('admin')
@Controller('admin/audit')
@AdminOnly()
export class AdminAuditController {
  constructor(private readonly audits: AuditFacade) {}

  @Get()
  @ApiOperation({
    summary: 'Check the booking invariants over the whole database',
    description:
      'Runs every rule now, on one consistent snapshot without locks, within AUDIT_TIME_LIMIT_MS ' +
      'in total. An audit cut off by that limit answers 503 SERVICE_UNAVAILABLE (with ' +
      'Retry-After) naming the unchecked rules, never a partial 200.',
  })
  @ApiOkResponse({ type: AuditResponse })
  async audit(): Promise<AuditResponse> {
    return AuditResponse.from(await this.audits.audit());
  }
}
