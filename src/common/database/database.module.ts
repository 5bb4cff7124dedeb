import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { databaseConfig, DatabaseConfig } from '../config/configuration';
import { dataSourceOptions } from './data-source-options';
import { assertNoPendingMigrations, prepareDatabase } from './prepare-database';
import { ReplicaMetrics } from './replica.metrics';
import { TransactionHost } from './transaction';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY],
      useFactory: async (config: DatabaseConfig) => {
        await (config.migrateOnStart ? prepareDatabase(config) : assertNoPendingMigrations(config));
        return { ...dataSourceOptions(config), autoLoadEntities: true, retryAttempts: 3 };
      },
    }),
  ],
  providers: [TransactionHost, ReplicaMetrics],
  exports: [TransactionHost],
})
export class DatabaseModule {}
