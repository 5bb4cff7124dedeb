import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-codes';
import { AdminKeyGuard } from '../../../common/http/admin-key.guard';
import { ApiProblems } from '../../../common/http/api-problem.decorator';
import { AuditFacade } from '../application/audit.facade';
import { AuditResponse } from './dto/audit.dto';

@ApiTags('admin')
@ApiHeader({ name: 'X-Admin-Key', required: true, description: 'Compared with ADMIN_API_KEY' })
@Controller('admin/audit')
@UseGuards(AdminKeyGuard)
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
  @ApiProblems(ErrorCode.ADMIN_KEY_INVALID)
  async audit(): Promise<AuditResponse> {
    return AuditResponse.from(await this.audits.audit());
  }
}
