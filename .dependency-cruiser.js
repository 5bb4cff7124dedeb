/**
 * Layering rules (see ../docs/architecture.md):
 *   presentation -> application -> domain <- infrastructure
 * Only facades (application) talk across modules, and only to other modules' domain services.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-stays-pure',
      comment:
        'The domain imports no framework adapters: no ORM, no Redis client, no HTTP/validation decorators.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/domain/' },
      to: {
        path: 'node_modules/(typeorm|ioredis|redlock|redis-semaphore|@nestjs/swagger|@nestjs/typeorm|class-validator|class-transformer|fastify|mysql2)/',
      },
    },
    {
      name: 'domain-does-not-import-outer-layers',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/domain/' },
      to: { path: '^src/modules/[^/]+/(presentation|application|infrastructure)/' },
    },
    {
      name: 'infrastructure-does-not-import-application-or-presentation',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/infrastructure/' },
      to: { path: '^src/modules/[^/]+/(presentation|application)/' },
    },
    {
      name: 'application-does-not-import-presentation',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/application/' },
      to: { path: '^src/modules/[^/]+/presentation/' },
    },
    {
      name: 'presentation-skips-no-layer',
      comment:
        'Controllers and schedulers call facades; they never reach repositories or adapters.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/presentation/' },
      to: { path: '^src/modules/[^/]+/infrastructure/' },
    },
    {
      name: 'domain-services-do-not-call-other-modules',
      comment:
        'No domain service calls another module; cross-module orchestration lives in facades.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/domain/' },
      to: { path: '^src/modules/', pathNot: ['^src/modules/$1/'] },
    },
    {
      name: 'cross-module-only-facade-to-domain-service',
      comment:
        'Another module is reached only from a facade, and only through its domain service/model.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/(application|infrastructure)/' },
      to: {
        path: '^src/modules/([^/]+)/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/domain/'],
      },
    },
    {
      name: 'no-facade-to-facade',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/application/' },
      to: { path: '^src/modules/([^/]+)/application/', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'infrastructure-stays-in-module',
      comment: 'Repositories and adapters are private to their module.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/infrastructure/', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'cross-module-presentation-only-guards',
      comment:
        'A controller may use the guards of the auth module (bearer token, write limit) and the queue-token guard of the queue module, nothing else from another module.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/presentation/' },
      to: {
        path: '^src/modules/[^/]+/presentation/',
        pathNot: [
          '^src/modules/$1/',
          '^src/modules/queue/presentation/active-queue-token\\.guard\\.ts$',
          '^src/modules/auth/presentation/(bearer-auth|user-write-limit)\\.guard\\.ts$',
        ],
      },
    },
    {
      name: 'common-does-not-import-modules',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'no-orphans',
      comment:
        'A module nothing imports is dead code, or an entry point that belongs in this list: main, the seed and event-watch scripts, the data source of the TypeORM CLI, migrations.',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '\\.d\\.ts$',
          '\\.spec\\.ts$',
          '^src/main\\.ts$',
          '^src/scripts/',
          '^src/common/database/data-source\\.ts$',
          '^src/common/database/migrations/',
        ],
      },
      to: {},
    },
    {
      name: 'no-unreachable-from-entry-points',
      comment:
        'no-orphans only sees files with no imports either way; this finds a file that imports others but that no entry point reaches.',
      severity: 'error',
      from: { path: '^src/(main|scripts/[^/]+|common/database/data-source)\\.ts$' },
      to: {
        path: '^src/',
        pathNot: [
          '\\.(spec|d)\\.ts$',
          '^src/(main|scripts/[^/]+|common/database/data-source)\\.ts$',
        ],
        reachable: false,
      },
    },
    {
      name: 'not-to-dev-dep',
      comment:
        'The image installs production dependencies only (npm ci --omit=dev): shipped code must not need a devDependency at run time.',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: {
        dependencyTypes: ['npm-dev'],
        // Types vanish at compile time.
        dependencyTypesNot: ['type-only'],
        pathNot: ['node_modules/@types/'],
      },
    },
    {
      name: 'src-does-not-import-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
