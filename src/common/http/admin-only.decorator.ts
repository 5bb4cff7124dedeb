import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ErrorCode } from '../errors/error-codes';
import { AdminKeyGuard } from './admin-key.guard';
import { ApiProblems } from './api-problem.decorator';

/** Marks a controller or route [admin]: X-Admin-Key required, and documented as such. */
export function AdminOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiHeader({ name: 'X-Admin-Key', required: true, description: 'Compared with ADMIN_API_KEY' }),
    UseGuards(AdminKeyGuard),
    ApiProblems(ErrorCode.ADMIN_KEY_INVALID),
  );
}
