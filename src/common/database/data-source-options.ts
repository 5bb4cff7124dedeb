import { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';
import { DatabaseConfig } from '../config/configuration';
import { InitialSchema1763770000000 } from './migrations/1763770000000-InitialSchema';
import { Accounts1764600000000 } from './migrations/1764600000000-Accounts';
import { Refunds1764700000000 } from './migrations/1764700000000-Refunds';
import { Outbox1764710000000 } from './migrations/1764710000000-Outbox';
import { WaitingRooms1764730000000 } from './migrations/1764730000000-WaitingRooms';

/** Listed explicitly (not globbed) so the same array works from ts-jest and from dist/. */
export const migrations = [
  InitialSchema1763770000000,
  Accounts1764600000000,
  Refunds1764700000000,
  Outbox1764710000000,
  WaitingRooms1764730000000,
];

export function dataSourceOptions(config: DatabaseConfig): MysqlDataSourceOptions {
  return {
    type: 'mysql',
    host: config.host,
    port: config.port,
    socketPath: config.socketPath,
    username: config.user,
    password: config.password,
    database: config.name,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    // Money is BIGINT; values stay far below 2^53, so numbers are safe and simpler than strings.
    supportBigNumbers: true,
    bigNumberStrings: false,
    synchronize: false,
    migrationsRun: false,
    migrations,
    connectTimeout: 2000,
    poolSize: config.poolSize,
    extra: {
      queueLimit: config.poolQueueLimit,
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
      connectTimeout: 2000,
    },
  };
}
