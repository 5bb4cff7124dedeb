import { getMetadataStorage } from 'class-validator';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { EnvironmentVariables, validateEnvironment } from '../../src/common/config/env.validation';
import { validateManifests } from './k8s-schema';
import { Manifest, parseEnvFile, podContainers, podSpec, renderKustomization } from './kustomize';

// deploy/k8s (docs/kubernetes.md): every kustomization is rendered here as `kubectl apply -k`
// would, each rendered manifest is validated against the Kubernetes API schemas (and the
// ServiceMonitor against its CRD's), and the properties the deployment depends on are checked.
// K8S_RENDER_DIR=<dir> npx jest test/deploy/k8s writes the rendered YAML there for reading.

const ROOT = resolve(__dirname, '../../deploy/k8s');
const OVERLAYS = ['staging', 'production'];
const KUSTOMIZATIONS = ['base', ...OVERLAYS.map((overlay) => `overlays/${overlay}`)];
/** The git-ignored secrets.env is absent in CI: its committed example stands in. */
const withExampleSecrets = { substitute: (missing: string) => `${missing}.example` };
const SECRET_KEYS = ['AUTH_JWT_SECRET', 'ADMIN_API_KEY', 'DB_PASSWORD', 'EVENTS_AMQP_URL'];
/** config.env values that differ from the app's defaults on purpose (each says why there). */
const NOT_THE_APP_DEFAULT: Record<string, string> = {
  NODE_ENV: 'production',
  DB_MIGRATIONS_ON_START: 'false',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, asserted field by field
type Json = any;

function render(dir: string): Manifest[] {
  return renderKustomization(join(ROOT, dir), withExampleSecrets).manifests;
}

function one(manifests: Manifest[], kind: string, name?: string): Json {
  const found = manifests.filter(
    (m) => m.kind === kind && (name === undefined || m.metadata.name === name),
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} ${name ?? ''}, rendered ${found.length}`);
  }
  return found[0];
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return (
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => labels[key] === value)
  );
}

/** The environment a container starts with: envFrom in order (later wins), then env. */
function containerEnv(manifests: Manifest[], container: Json): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const object: Json = one(manifests, source.configMapRef ? 'ConfigMap' : 'Secret', ref.name);
    for (const [key, value] of Object.entries<string>(object.data ?? {})) {
      env[key] = source.secretRef ? Buffer.from(value, 'base64').toString() : value;
    }
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value;
  return env;
}

function appVariables(): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(
    EnvironmentVariables,
    '',
    true,
    false,
  );
  return [...new Set(metadata.map((m) => m.propertyName))].sort();
}

describe('deploy/k8s manifests', () => {
  it.each(KUSTOMIZATIONS)('should render %s into manifests that pass the API schemas', (dir) => {
    const manifests = render(dir);
    expect(manifests.length).toBeGreaterThan(0);
    expect(validateManifests(manifests)).toEqual([]);

    const out = process.env.K8S_RENDER_DIR;
    if (out) {
      mkdirSync(out, { recursive: true });
      const text = manifests.map((m) => stringify(m)).join('---\n');
      writeFileSync(join(out, `${dir.replace(/\//g, '-')}.yaml`), text);
    }
  });

  it('should report schema violations and unknown fields, with their paths', () => {
    const manifests = structuredClone(render('overlays/production'));
    const deployment = one(manifests, 'Deployment', 'concert-api');
    const container = deployment.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe; // a misspelt field
    container.ports[0].containerPort = '3000'; // a string where the API wants an integer
    deployment.spec.template.metadata.annotations['prometheus.io/port'] = 3000; // unquoted in YAML
    delete deployment.spec.selector; // a required field
    one(manifests, 'HorizontalPodAutoscaler').spec.minReplicas = 'three';
    const monitor = one(manifests, 'ServiceMonitor');
    monitor.spec.endpoints[0].interval = 'often';
    monitor.spec.endpoints[0].relabelings[0].sourcelabels = ['pod']; // a CRD field, misspelt
    one(manifests, 'Service').specs = {}; // a misspelt top-level field
    manifests.push({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });

    const problems = validateManifests(manifests);
    const containerPath = 'spec.template.spec.containers[0]';
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          manifest: 'Deployment/concert-api',
          path: `${containerPath}.readinesProbe`,
          message: 'unknown field "readinesProbe" (kubectl apply refuses it)',
        },
        {
          manifest: 'Deployment/concert-api',
          path: `${containerPath}.ports[0].containerPort`,
          message: 'must be integer',
        },
        {
          manifest: 'Deployment/concert-api',
          path: 'spec.template.metadata.annotations.prometheus.io/port',
          message: 'must be string',
        },
        {
          manifest: 'Deployment/concert-api',
          path: 'spec',
          message: 'must have required property selector',
        },
        {
          manifest: 'HorizontalPodAutoscaler/concert-api',
          path: 'spec.minReplicas',
          message: 'must be integer',
        },
        expect.objectContaining({
          manifest: 'ServiceMonitor/concert-api',
          path: 'spec.endpoints[0].interval',
        }),
        {
          manifest: 'ServiceMonitor/concert-api',
          path: 'spec.endpoints[0].relabelings[0].sourcelabels',
          message: 'unknown field "sourcelabels" (kubectl apply refuses it)',
        },
        {
          manifest: 'Service/concert-api',
          path: 'specs',
          message: 'unknown field "specs" (kubectl apply refuses it)',
        },
        expect.objectContaining({
          manifest: 'Widget/w',
          message: expect.stringMatching(/no schema/),
        }),
      ]),
    );
    expect(validateManifests(render('overlays/production'))).toEqual([]);
  });

  it('should refuse kustomization features the renderer does not implement', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-'));
    try {
      const write = (text: string) => writeFileSync(join(dir, 'kustomization.yaml'), text);
      const header = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
      writeFileSync(
        join(dir, 'cm.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
      );

      write(`${header}namePrefix: a-\nresources: [cm.yaml]\n`);
      expect(() => renderKustomization(dir)).toThrow(/unsupported field namePrefix/);
      write(
        `${header}resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n` +
          '    patch: |-\n      metadata:\n        name: y\n',
      );
      expect(() => renderKustomization(dir)).toThrow(/only JSON 6902 patches/);
      write(
        `${header}resources: [cm.yaml]\npatches:\n  - target: {kind: Secret}\n` +
          '    patch: |-\n      - {op: remove, path: /data}\n',
      );
      expect(() => renderKustomization(dir)).toThrow(/matches nothing/);
      write(`${header}configMapGenerator:\n  - name: c\n    envs: [../outside.env]\n`);
      expect(() => renderKustomization(dir)).toThrow(/outside the kustomization/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The renderer stands in for kustomize in CI; where kubectl (which embeds kustomize) exists,
  // both must produce the very same objects, generated names included.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const withKubectl = kubectl.status === 0 ? describe : describe.skip;
  withKubectl('where kubectl is installed', () => {
    it('should render exactly what kubectl kustomize renders', () => {
      const copy = mkdtempSync(join(tmpdir(), 'k8s-'));
      try {
        cpSync(ROOT, copy, { recursive: true });
        for (const overlay of OVERLAYS) {
          const dir = join(copy, 'overlays', overlay);
          copyFileSync(join(dir, 'secrets.env.example'), join(dir, 'secrets.env'));
        }
        for (const dir of KUSTOMIZATIONS) {
          const theirs = parseAllDocuments(
            execFileSync('kubectl', ['kustomize', join(copy, dir)], {
              encoding: 'utf8',
              timeout: 60_000,
            }),
          ).map((document) => document.toJS() as Manifest);
          const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace}/${m.metadata.name}`;
          const ours = new Map(render(dir).map((m) => [key(m), m]));
          expect([...ours.keys()].sort()).toEqual(theirs.map(key).sort());
          for (const manifest of theirs) {
            const same = isDeepStrictEqual(
              JSON.parse(JSON.stringify(ours.get(key(manifest)))),
              manifest,
            );
            expect({ [key(manifest)]: same }).toEqual({ [key(manifest)]: true });
          }
        }
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });
});

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  const manifests = render(`overlays/${overlay}`);
  const deployment: Json = one(manifests, 'Deployment', 'concert-api');
  const pod = deployment.spec.template;
  const api = pod.spec.containers.find((c: Json) => c.name === 'api');
  const job: Json = one(manifests, 'Job', 'concert-migrate');
  const workloads = [deployment, job];

  it('should run at least 3 API pods, scaled on CPU by the HPA alone', () => {
    // A replicas field would reset the HPA's count on every apply.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const hpa = one(manifests, 'HorizontalPodAutoscaler', 'concert-api');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'concert-api',
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics).toEqual([
      expect.objectContaining({
        type: 'Resource',
        resource: expect.objectContaining({ name: 'cpu' }),
      }),
    ]);
    const pdb = one(manifests, 'PodDisruptionBudget', 'concert-api');
    expect(selects(pdb.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('should probe startup and liveness on /health/live and readiness on /health/ready', () => {
    const port = api.ports.find((p: Json) => p.name === 'http');
    expect(port.containerPort).toBe(3000);
    for (const [probe, path] of [
      ['startupProbe', '/health/live'],
      ['readinessProbe', '/health/ready'],
      ['livenessProbe', '/health/live'],
    ]) {
      expect({ probe, httpGet: api[probe]?.httpGet }).toEqual({
        probe,
        httpGet: { path, port: 'http' },
      });
    }
  });

  it('should drain: endpoints go during the preStop sleep, the app then gets 10 s and more', () => {
    const sleep = api.lifecycle.preStop.sleep.seconds;
    expect(sleep).toBeGreaterThanOrEqual(3);
    // sleep + the app's drain (in-flight requests, up to 10 s) + a margin before SIGKILL.
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + 10 + 5);
  });

  it('should run every pod non-root on a read-only root filesystem, with /tmp a scratch volume', () => {
    for (const workload of workloads) {
      const spec = podSpec(workload)!;
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken).toBe(false);
      const scratch = (spec.volumes as Json[]).filter((v) => v.emptyDir).map((v) => v.name);
      for (const container of podContainers(workload)) {
        expect(container.securityContext).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        const tmp = (container.volumeMounts as Json[]).find((m) => m.mountPath === '/tmp');
        expect(scratch).toContain(tmp?.name);
        for (const kind of ['requests', 'limits']) {
          expect(Object.keys((container.resources as Json)[kind]).sort()).toEqual([
            'cpu',
            'memory',
          ]);
        }
      }
    }
  });

  it('should pin every image to a registry and a version', () => {
    for (const container of workloads.flatMap((w) => podContainers(w))) {
      expect(container.image).toMatch(
        /^[a-z0-9.-]+\.[a-z]+(:\d+)?\/.+(:[\w.-]+|@sha256:[0-9a-f]{64})$/,
      );
      expect(container.image).not.toMatch(/:latest$/);
    }
  });

  it('should wire the Service, Ingresses, ServiceMonitor and NetworkPolicy to the pods', () => {
    const service = one(manifests, 'Service', 'concert-api');
    expect(selects(service.spec.selector, pod.metadata.labels)).toBe(true);
    const ports = new Set(api.ports.map((p: Json) => p.name));
    for (const port of service.spec.ports) expect(ports).toContain(port.targetPort);

    const ingresses = manifests.filter((m) => m.kind === 'Ingress') as Json[];
    for (const backend of ingresses.flatMap((i) =>
      i.spec.rules.flatMap((r: Json) => r.http.paths.map((p: Json) => p.backend.service)),
    )) {
      expect(backend.name).toBe(service.metadata.name);
      expect(service.spec.ports.map((p: Json) => p.name)).toContain(backend.port.name);
    }

    for (const monitor of manifests.filter((m) => m.kind === 'ServiceMonitor') as Json[]) {
      expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
      expect(monitor.spec.endpoints).toEqual([
        expect.objectContaining({ port: 'http', path: '/metrics' }),
      ]);
    }
    for (const policy of manifests.filter((m) => m.kind === 'NetworkPolicy') as Json[]) {
      expect(selects(policy.spec.podSelector.matchLabels, pod.metadata.labels)).toBe(true);
    }
    expect(pod.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(api.ports[0].containerPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it('should hold the event stream open an hour, unbuffered, and other requests briefly', () => {
    const ingresses = manifests.filter((m) => m.kind === 'Ingress') as Json[];
    const routes = ingresses.flatMap((ingress) =>
      ingress.spec.rules.flatMap((rule: Json) =>
        rule.http.paths.map((path: Json) => ({
          ...path,
          annotations: ingress.metadata.annotations,
        })),
      ),
    );
    const events = routes.find((r) => r.path === '/queue/events');
    expect(events.pathType).toBe('Exact');
    expect(events.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
    });
    expect(Number(events.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBe(3600);
    expect(Number(events.annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBe(3600);
    const rest = routes.find((r) => r.path === '/');
    expect(rest.pathType).toBe('Prefix');
    expect(Number(rest.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeLessThan(
      60,
    );
  });

  it('should start pods that do not migrate, and a Job that does', () => {
    const env = containerEnv(manifests, api);
    expect(env.DB_MIGRATIONS_ON_START).toBe('false');
    expect(Number(env.PORT)).toBe(api.ports[0].containerPort);
    // The external services, not the app's loopback defaults; the client address behind the
    // ingress controller.
    expect(env.DB_HOST).not.toMatch(/^(127\.|localhost$)/);
    expect(env.REDIS_URL).not.toMatch(/\/\/(127\.|localhost[:/])/);
    expect(env.TRUSTED_PROXIES).not.toBe('');

    const [migrate] = job.spec.template.spec.containers;
    expect(migrate.image).toBe(api.image);
    expect(migrate.envFrom).toEqual(api.envFrom);
    expect(migrate.command.slice(0, 2)).toEqual(['node', '-e']);
    expect(migrate.command[2]).toMatch(/prepareDatabase\(databaseConfig\(\)\)/);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('should start with the rendered settings once real secrets are in, and not with the placeholders', () => {
    const env = containerEnv(manifests, api);
    // The committed example's placeholders: the app refuses them (too short), so a forgotten
    // secrets.env can never run with a published key.
    expect(() => validateEnvironment(env)).toThrow(/AUTH_JWT_SECRET must be at least 32/);
    const real = {
      ...env,
      AUTH_JWT_SECRET: 'x'.repeat(48),
      ADMIN_API_KEY: 'y'.repeat(48),
      DB_PASSWORD: 'z'.repeat(24),
      EVENTS_AMQP_URL: 'amqp://concert:secret@rabbitmq.example:5672',
    };
    expect(validateEnvironment(real)).toMatchObject({ NODE_ENV: 'production', PORT: 3000 });
  });

  it('should reference only ConfigMaps and Secrets it renders (the TLS certificate aside)', () => {
    const names = new Set(manifests.map((m) => `${m.kind}/${m.metadata.name}`));
    for (const container of workloads.flatMap((w) => podContainers(w))) {
      for (const source of container.envFrom as Json[]) {
        const [kind, ref] = source.configMapRef
          ? ['ConfigMap', source.configMapRef]
          : ['Secret', source.secretRef];
        expect(names).toContain(`${kind}/${ref.name}`);
      }
    }
  });
});

describe('deploy/k8s settings', () => {
  const config = readFileSync(join(ROOT, 'base/config.env'), 'utf8');
  const set = parseEnvFile(config);
  const unset = [...config.matchAll(/^#\s*([A-Z][A-Z0-9_]+)=\s*$/gm)].map((m) => m[1]);
  const examples = OVERLAYS.map((overlay) =>
    parseEnvFile(readFileSync(join(ROOT, 'overlays', overlay, 'secrets.env.example'), 'utf8')),
  );

  it('should give every variable the app reads a line: set, unset on purpose, or secret', () => {
    const covered = [...Object.keys(set), ...unset, ...SECRET_KEYS].sort();
    // A new variable in env.validation.ts needs a line in deploy/k8s/base/config.env (with its
    // default), a `# NAME=` line there if it stays unset, or a secrets.env.example line.
    expect(appVariables().filter((name) => !covered.includes(name))).toEqual([]);
    expect(covered.filter((name) => !appVariables().includes(name))).toEqual([]);
    for (const example of examples)
      expect(Object.keys(example).sort()).toEqual([...SECRET_KEYS].sort());
    for (const key of SECRET_KEYS) expect(set).not.toHaveProperty(key);
  });

  it("should default every setting to the app's own default, but for the documented few", () => {
    const defaults = validateEnvironment({ AUTH_JWT_SECRET: 'x'.repeat(48) }) as unknown as Record<
      string,
      string | number | undefined
    >;
    const differing = Object.entries(set)
      .filter(([key, value]) => String(defaults[key] ?? '') !== value)
      .map(([key, value]) => [key, value]);
    expect(Object.fromEntries(differing)).toEqual(NOT_THE_APP_DEFAULT);
    for (const name of unset) expect(defaults[name]).toBeUndefined();
  });

  it('should commit only placeholders, and keep the real secrets.env out of git', () => {
    for (const example of examples) {
      expect(example.AUTH_JWT_SECRET.length).toBeLessThan(32);
      expect(example.ADMIN_API_KEY.length).toBeLessThan(32);
      expect(example.DB_PASSWORD).toBe('CHANGE-ME');
    }
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toMatch(/^secrets\.env$/m);
  });
});
