import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Global, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';

/**
 * Async context (CLS). A transaction opened by a facade (`txHost.withTransaction`) travels through
 * it, so repositories join it via TransactionHost.tx without an EntityManager parameter.
 */
@Global()
@Module({
  imports: [
    ClsModule.forRoot({
      global: true,
      // No per-request context: withTransaction() opens one itself when none is active, and
      // nothing else reads request-scoped state. Mounting the CLS middleware on every request
      // cost ~20% of status-poll throughput (measured in docs/benchmarks.md).
      middleware: { mount: false },
      plugins: [
        new ClsPluginTransactional({
          adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
          enableTransactionProxy: false,
        }),
      ],
    }),
  ],
})
export class ContextModule {}
