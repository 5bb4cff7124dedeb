import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { allConfigs } from './configuration';
import { validateEnvironment } from './env.validation';

@Global()
@Module({})
export class AppConfigModule {
  static forRoot(): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: allConfigs,
          // Fail at boot with the bad keys named; the result itself is re-read per concern.
          validate: (raw) => {
            validateEnvironment(raw);
            return raw;
          },
        }),
      ],
    };
  }
}
