import { DynamicModule, INestApplicationContext, Module, Type } from '@nestjs/common';
import { GLOBAL_MODULE_METADATA, MODULE_METADATA } from '@nestjs/common/constants';
import { NestFactory } from '@nestjs/core';
import { AppConfigModule } from '../../src/common/config/config.module';
import { DatabaseModule } from '../../src/common/database/database.module';
import { MetricsModule } from '../../src/common/metrics/metrics.module';
import { OutboxModule } from '../../src/common/outbox/outbox.module';
import { RedisModule } from '../../src/common/redis/redis.module';
import { withEnv } from './app';

@Module({})
class IntegrationRootModule {}

/**
 * The integration tier's harness: the validated config, the database (migrated on boot like the
 * app), Redis, the two cross-cutting globals every writing facade injects (metrics, and the event
 * outbox, which relays nothing unless a test passes EVENTS_AMQP_URL), and the modules under test
 * with their imports but without their controllers: no HTTP adapter, guards or pipes, so a module
 * boots without the auth and rate-limit modules its endpoints need. Tests call the facades and
 * services from `get()`.
 */
export function startModules(
  modules: Type[],
  env: Record<string, string> = {},
): Promise<INestApplicationContext> {
  const stripped = new Map<Type, DynamicModule>();
  return withEnv(env, () =>
    NestFactory.createApplicationContext(
      {
        module: IntegrationRootModule,
        imports: [
          AppConfigModule.forRoot(),
          DatabaseModule,
          RedisModule,
          MetricsModule,
          OutboxModule,
          ...modules.map((module) => withoutControllers(module, stripped)),
        ],
      },
      // Boot failures must reach the test as a rejection: Nest's default aborts the process.
      { logger: false, abortOnError: false },
    ),
  );
}

/**
 * The same module (providers, exports, global or not) minus its controllers, and so for every
 * module class it imports. One copy per module and boot, so Nest still sees a shared import once.
 */
function withoutControllers(module: Type, stripped: Map<Type, DynamicModule>): DynamicModule {
  const known = stripped.get(module);
  if (known) return known;
  const copy = { name: `${module.name}WithoutControllers` };
  const dynamic: DynamicModule = {
    // A fresh class per module: Nest keys modules by class, and the original keeps its metadata.
    module: { [copy.name]: class {} }[copy.name],
    global: Reflect.getMetadata(GLOBAL_MODULE_METADATA, module) === true,
  };
  stripped.set(module, dynamic);
  const read = (key: string) => (Reflect.getMetadata(key, module) ?? []) as unknown[];
  const strip = (entry: unknown) =>
    isModuleClass(entry) ? withoutControllers(entry, stripped) : entry;
  dynamic.imports = read(MODULE_METADATA.IMPORTS).map(strip) as DynamicModule['imports'];
  dynamic.providers = read(MODULE_METADATA.PROVIDERS) as DynamicModule['providers'];
  dynamic.exports = read(MODULE_METADATA.EXPORTS).map(strip) as DynamicModule['exports'];
  return dynamic;
}

function isModuleClass(entry: unknown): entry is Type {
  return (
    typeof entry === 'function' &&
    Reflect.getMetadataKeys(entry).some((key) =>
      (Object.values(MODULE_METADATA) as unknown[]).includes(key),
    )
  );
}
