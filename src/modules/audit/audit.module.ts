import { Module } from '@nestjs/common';
import { AuditFacade } from './application/audit.facade';
import { AuditResultStore } from './domain/audit-result.store';
import { InvariantAuditRepository } from './domain/invariant-audit.repository';
import { InvariantAuditService } from './domain/invariant-audit.service';
import { AuditResultRedisStore } from './infrastructure/audit-result.redis-store';
import { InvariantAuditSqlRepository } from './infrastructure/invariant-audit.sql-repository';
import { AdminAuditController } from './presentation/admin-audit.controller';
import { AuditMetrics } from './presentation/audit.metrics';
import { AuditScheduler } from './presentation/audit.scheduler';

/**
 * The booking invariant audit. It reads every module's tables on purpose, in SQL of its own: an
 * audit that asked each module's code whether that code was right would only repeat its answer.
 */
@Module({
  controllers: [AdminAuditController],
  providers: [
    AuditFacade,
    InvariantAuditService,
    AuditScheduler,
    AuditMetrics,
    { provide: InvariantAuditRepository, useClass: InvariantAuditSqlRepository },
    { provide: AuditResultStore, useClass: AuditResultRedisStore },
  ],
})
export class AuditModule {}
