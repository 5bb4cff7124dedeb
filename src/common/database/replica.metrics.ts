import { Injectable, Optional } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { TransactionHost } from './transaction';

/**
 * Per replica, read at scrape time: whether reads go to it, and its lag as this instance measures
 * it (docs/operations.md, "Read replicas"). No series without DB_REPLICA_HOSTS.
 */
@Injectable()
export class ReplicaMetrics {
  constructor(host: TransactionHost, @Optional() metrics?: MetricsService) {
    if (!metrics || host.replicaStatus().length === 0) return;
    new Gauge({
      name: 'db_replica_usable',
      help: 'Whether reads go to this replica (1) or it is skipped for lag or errors (0)',
      labelNames: ['replica'] as const,
      registers: [metrics.registry],
      collect() {
        for (const replica of host.replicaStatus()) {
          this.set({ replica: replica.name }, replica.usable ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'db_replica_lag_seconds',
      help: 'How far behind the primary the replica is, as this instance measures it',
      labelNames: ['replica'] as const,
      registers: [metrics.registry],
      collect() {
        for (const replica of host.replicaStatus()) {
          this.set({ replica: replica.name }, replica.lagMs / 1000);
        }
      },
    });
  }
}
