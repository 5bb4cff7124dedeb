import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A small Kustomize renderer for deploy/k8s, so CI can validate what `kubectl apply -k` would
 * send without a kustomize binary. It implements only the subset those kustomizations use, and
 * refuses anything else by name (an unknown field, a strategic-merge patch, an unsupported
 * patch op), so a kustomization can never silently mean one thing here and another in kustomize:
 *
 * - `resources` (files and directories), `components` (kind Component), `namespace`;
 * - `configMapGenerator` / `secretGenerator` with `envs` and `literals`, `behavior`
 *   create|merge|replace, and kustomize's content-hash name suffix, with the references to the
 *   generated names rewritten in pod templates (envFrom, env, volumes, imagePullSecrets);
 * - `images` (newName, newTag, digest) on the containers of pod templates;
 * - `patches`: JSON 6902 only (add, remove, replace, test), with a `target` kind and optional name.
 *
 * The generated names match kustomize's hashing closely but are not promised to be identical;
 * the schemas and the cross-references are what CI checks. `kubectl kustomize` stays the truth.
 */

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface Rendered {
  manifests: Manifest[];
  /** Which file each manifest came from (a generator's kustomization for generated ones). */
  sources: Map<Manifest, string>;
}

export interface RenderOptions {
  /**
   * A file that kustomize would need but is absent (the git-ignored secrets.env): return a path
   * to read instead, or undefined to fail as kustomize does.
   */
  substitute?: (missing: string) => string | undefined;
}

type Json = unknown;
type JsonObject = Record<string, Json>;

interface Generator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  envs?: string[];
  literals?: string[];
  type?: string;
}

interface Kustomization {
  apiVersion: string;
  kind: 'Kustomization' | 'Component';
  resources?: string[];
  components?: string[];
  namespace?: string;
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
  images?: Array<{ name: string; newName?: string; newTag?: string; digest?: string }>;
  patches?: Array<{ path?: string; patch?: string; target: PatchTarget }>;
}

interface PatchTarget {
  kind: string;
  name?: string;
  group?: string;
  version?: string;
}

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'namespace',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'images',
  'patches',
]);
const GENERATOR_FIELDS = new Set(['name', 'behavior', 'envs', 'literals', 'type']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'IngressClass',
  'PriorityClass',
  'StorageClass',
  'PersistentVolume',
]);
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

class Build {
  /** Generated ConfigMaps/Secrets that get a hash suffix at the end of the build. */
  readonly generated = new Set<Manifest>();
  readonly sources = new Map<Manifest, string>();

  constructor(private readonly options: RenderOptions) {}

  kustomize(dir: string, expect: Kustomization['kind'], accumulated: Manifest[]): Manifest[] {
    const file = join(dir, 'kustomization.yaml');
    const k = loadKustomization(file);
    if (k.kind !== expect) fail(file, `expected kind ${expect}, found ${k.kind}`);

    let resources = [...accumulated];
    for (const entry of k.resources ?? []) {
      const path = resolve(dir, entry);
      if (!existsSync(path)) fail(file, `resource ${entry} does not exist`);
      if (statSync(path).isDirectory()) {
        resources.push(...this.kustomize(path, 'Kustomization', []));
      } else {
        for (const manifest of loadManifests(path)) {
          this.sources.set(manifest, path);
          resources.push(manifest);
        }
      }
    }
    for (const entry of k.components ?? []) {
      resources = this.kustomize(resolve(dir, entry), 'Component', resources);
    }

    const hashNames = k.generatorOptions?.disableNameSuffixHash !== true;
    for (const [kind, generators] of [
      ['ConfigMap', k.configMapGenerator],
      ['Secret', k.secretGenerator],
    ] as const) {
      for (const generator of generators ?? []) {
        resources = this.generate(dir, file, kind, generator, resources, hashNames);
      }
    }

    // Kustomize's order: patches, then namespace, then images.
    for (const patch of k.patches ?? []) applyPatch(dir, file, patch, resources);
    if (k.namespace !== undefined) {
      for (const manifest of resources) {
        if (!CLUSTER_SCOPED.has(manifest.kind)) manifest.metadata.namespace = k.namespace;
      }
    }
    for (const image of k.images ?? []) {
      for (const manifest of resources) {
        for (const container of podContainers(manifest)) {
          const parsed = parseImage(String(container.image));
          if (parsed.name !== image.name) continue;
          const name = image.newName ?? parsed.name;
          container.image = image.digest
            ? `${name}@${image.digest}`
            : `${name}${image.newTag !== undefined ? `:${image.newTag}` : parsed.rest}`;
        }
      }
    }
    return resources;
  }

  private generate(
    dir: string,
    file: string,
    kind: 'ConfigMap' | 'Secret',
    generator: Generator,
    resources: Manifest[],
    hashName: boolean,
  ): Manifest[] {
    for (const field of Object.keys(generator)) {
      if (!GENERATOR_FIELDS.has(field)) fail(file, `unsupported ${kind} generator field ${field}`);
    }
    const data: Record<string, string> = {};
    for (const env of generator.envs ?? []) {
      Object.assign(data, parseEnvFile(this.readGeneratorFile(dir, file, env)));
    }
    for (const literal of generator.literals ?? []) {
      const [key, value] = splitPair(literal, `${file}: literal`);
      data[key] = value.replace(/^(["'])(.*)\1$/, '$2');
    }

    const behavior = generator.behavior ?? 'create';
    const existing = resources.find((m) => m.kind === kind && m.metadata.name === generator.name);
    if (behavior === 'create') {
      if (existing) fail(file, `${kind} ${generator.name} already exists: use behavior merge`);
      const manifest = kind === 'ConfigMap' ? configMap(generator, data) : secret(generator, data);
      if (hashName) this.generated.add(manifest);
      this.sources.set(manifest, file);
      return [...resources, manifest];
    }
    if (!existing) fail(file, `${kind} ${generator.name} to ${behavior} is not generated earlier`);
    const encoded = kind === 'Secret' ? base64Values(data) : data;
    existing.data =
      behavior === 'merge' ? { ...(existing.data as Record<string, string>), ...encoded } : encoded;
    return resources;
  }

  /** Kustomize's load restriction: generator files must lie inside the kustomization's root. */
  private readGeneratorFile(dir: string, file: string, entry: string): string {
    const path = resolve(dir, entry);
    const inside = relative(dir, path);
    if (inside.startsWith('..') || inside.startsWith(sep)) {
      fail(file, `${entry} is outside the kustomization's directory (kustomize refuses it)`);
    }
    if (existsSync(path)) return readFileSync(path, 'utf8');
    const substitute = this.options.substitute?.(path);
    if (substitute === undefined) fail(file, `${entry} does not exist`);
    return readFileSync(substitute, 'utf8');
  }

  /** The hash suffix, then every reference to a renamed ConfigMap/Secret follows it. */
  finish(resources: Manifest[]): Manifest[] {
    const renamed = new Map<string, string>();
    for (const manifest of this.generated) {
      const name = `${manifest.metadata.name}-${contentHash(manifest)}`;
      renamed.set(`${manifest.kind}/${manifest.metadata.name}`, name);
      manifest.metadata.name = name;
    }
    const rename = (kind: string, holder: JsonObject, field: string) => {
      const current = holder[field];
      const next = typeof current === 'string' ? renamed.get(`${kind}/${current}`) : undefined;
      if (next !== undefined) holder[field] = next;
    };
    for (const manifest of resources) {
      const pod = podSpec(manifest);
      if (!pod) continue;
      for (const container of podContainers(manifest)) {
        for (const source of asArray(container.envFrom)) {
          if (isObject(source.configMapRef)) rename('ConfigMap', source.configMapRef, 'name');
          if (isObject(source.secretRef)) rename('Secret', source.secretRef, 'name');
        }
        for (const variable of asArray(container.env)) {
          const from = variable.valueFrom;
          if (!isObject(from)) continue;
          if (isObject(from.configMapKeyRef)) rename('ConfigMap', from.configMapKeyRef, 'name');
          if (isObject(from.secretKeyRef)) rename('Secret', from.secretKeyRef, 'name');
        }
      }
      for (const volume of asArray(pod.volumes)) {
        if (isObject(volume.configMap)) rename('ConfigMap', volume.configMap, 'name');
        if (isObject(volume.secret)) rename('Secret', volume.secret, 'secretName');
        if (isObject(volume.projected)) {
          for (const source of asArray(volume.projected.sources)) {
            if (isObject(source.configMap)) rename('ConfigMap', source.configMap, 'name');
            if (isObject(source.secret)) rename('Secret', source.secret, 'name');
          }
        }
      }
      for (const pullSecret of asArray(pod.imagePullSecrets)) rename('Secret', pullSecret, 'name');
    }
    return resources;
  }
}

/** Renders the kustomization in `dir` as `kubectl kustomize dir` would (see the file comment). */
export function renderKustomization(dir: string, options: RenderOptions = {}): Rendered {
  const build = new Build(options);
  const manifests = build.finish(build.kustomize(resolve(dir), 'Kustomization', []));
  return { manifests, sources: build.sources };
}

/** The pod spec of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod). */
export function podSpec(manifest: Manifest): JsonObject | undefined {
  const spec = manifest.spec;
  if (!isObject(spec)) return undefined;
  if (manifest.kind === 'Pod') return spec;
  if (manifest.kind === 'CronJob') {
    const job = spec.jobTemplate;
    return isObject(job) && isObject(job.spec) && isObject(job.spec.template)
      ? asObject(job.spec.template.spec)
      : undefined;
  }
  return isObject(spec.template) ? asObject(spec.template.spec) : undefined;
}

/** Containers and init containers of a workload's pod template. */
export function podContainers(manifest: Manifest): JsonObject[] {
  const pod = podSpec(manifest);
  return pod ? [...asArray(pod.initContainers), ...asArray(pod.containers)] : [];
}

function loadKustomization(file: string): Kustomization {
  if (!existsSync(file)) fail(file, 'missing (every directory listed must have a kustomization)');
  const [document, ...rest] = loadYaml(file);
  if (rest.length > 0 || !isObject(document)) fail(file, 'must be a single YAML mapping');
  for (const field of Object.keys(document)) {
    if (!KUSTOMIZATION_FIELDS.has(field)) {
      fail(file, `unsupported field ${field} (test/deploy/kustomize.ts renders a subset)`);
    }
  }
  const apiVersion = document.kind === 'Component' ? 'v1alpha1' : 'v1beta1';
  if (document.apiVersion !== `kustomize.config.k8s.io/${apiVersion}`) {
    fail(file, `apiVersion must be kustomize.config.k8s.io/${apiVersion}`);
  }
  return document as unknown as Kustomization;
}

function loadManifests(file: string): Manifest[] {
  return loadYaml(file)
    .filter((document) => document !== null)
    .map((document) => {
      const manifest = asObject(document);
      const metadata = manifest.metadata;
      if (
        typeof manifest.apiVersion !== 'string' ||
        typeof manifest.kind !== 'string' ||
        !isObject(metadata) ||
        typeof metadata.name !== 'string'
      ) {
        fail(file, 'every document needs apiVersion, kind and metadata.name');
      }
      return manifest as Manifest;
    });
}

function loadYaml(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true }).map((document) => {
    const problem = document.errors[0] ?? document.warnings[0];
    if (problem) fail(file, problem.message);
    return document.toJS() as Json;
  });
}

/** Kustomize's env files: KEY=value lines, # comments. A bare KEY (read from the shell) is refused. */
export function parseEnvFile(text: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const [key, value] = splitPair(line, `env file line ${index + 1}`);
    data[key] = value;
  }
  return data;
}

function splitPair(text: string, where: string): [string, string] {
  const at = text.indexOf('=');
  const key = at < 0 ? text : text.slice(0, at);
  if (at < 0 || !ENV_KEY.test(key)) throw new Error(`${where}: expected KEY=value, got "${key}"`);
  return [key, text.slice(at + 1)];
}

function configMap(generator: Generator, data: Record<string, string>): Manifest {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data };
}

function secret(generator: Generator, data: Record<string, string>): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: generator.name },
    type: generator.type ?? 'Opaque',
    data: base64Values(data),
  };
}

function base64Values(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  );
}

/**
 * Kustomize's suffix (api/hasher): sha256 of the sorted-key JSON of kind, data (and a Secret's
 * type), first 10 hex digits with 0, 1, 3, a, e swapped for letters. Its `name` field is always
 * empty: kustomize looks it up with a path that never matches ("metadata/name" as one key).
 */
function contentHash(manifest: Manifest): string {
  const fields: JsonObject = { kind: manifest.kind, name: '', data: manifest.data ?? '' };
  if (manifest.kind === 'Secret') fields.type = manifest.type;
  const hex = createHash('sha256').update(sortedJson(fields)).digest('hex');
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((c) => swap[c] ?? c).join('');
}

function sortedJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${sortedJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function applyPatch(
  dir: string,
  file: string,
  entry: NonNullable<Kustomization['patches']>[number],
  resources: Manifest[],
): void {
  const text =
    entry.path !== undefined ? readFileSync(resolve(dir, entry.path), 'utf8') : entry.patch;
  if (text === undefined || !isObject(entry.target) || typeof entry.target.kind !== 'string') {
    fail(file, 'a patch needs `patch` or `path`, and a `target` with a kind');
  }
  const operations = parseAllDocuments(text)[0]?.toJS() as Json;
  if (!Array.isArray(operations)) {
    fail(file, 'only JSON 6902 patches (a list of operations) are supported, not strategic merge');
  }
  const targets = resources.filter((manifest) => matches(manifest, entry.target));
  if (targets.length === 0)
    fail(file, `patch target ${JSON.stringify(entry.target)} matches nothing`);
  for (const manifest of targets) {
    for (const operation of operations) applyOperation(file, manifest, asObject(operation));
  }
}

function matches(manifest: Manifest, target: PatchTarget): boolean {
  const [group, version] = manifest.apiVersion.includes('/')
    ? manifest.apiVersion.split('/')
    : ['', manifest.apiVersion];
  return (
    manifest.kind === target.kind &&
    (target.name === undefined || manifest.metadata.name === target.name) &&
    (target.group === undefined || group === target.group) &&
    (target.version === undefined || version === target.version)
  );
}

function applyOperation(file: string, root: Manifest, operation: JsonObject): void {
  const { op, path, value } = operation;
  if (typeof path !== 'string' || !path.startsWith('/'))
    fail(file, `bad patch path ${String(path)}`);
  const tokens = path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = tokens.pop() as string;
  let parent: Json = root;
  for (const token of tokens) {
    parent = Array.isArray(parent)
      ? parent[Number(token)]
      : isObject(parent)
        ? parent[token]
        : undefined;
    if (parent === undefined) fail(file, `patch path ${path} does not exist in ${describe(root)}`);
  }
  const exists = Array.isArray(parent)
    ? last !== '-' && Number(last) < parent.length
    : isObject(parent) && last in parent;
  switch (op) {
    case 'add':
      if (Array.isArray(parent))
        parent.splice(last === '-' ? parent.length : Number(last), 0, value);
      else asObject(parent)[last] = value;
      return;
    case 'replace':
    case 'remove':
      if (!exists) fail(file, `patch ${op} ${path}: nothing there in ${describe(root)}`);
      if (op === 'replace') {
        if (Array.isArray(parent)) parent[Number(last)] = value;
        else asObject(parent)[last] = value;
      } else if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete asObject(parent)[last];
      return;
    case 'test': {
      const actual: Json = Array.isArray(parent) ? parent[Number(last)] : asObject(parent)[last];
      if (sortedJson(actual) !== sortedJson(value)) fail(file, `patch test ${path} failed`);
      return;
    }
    default:
      fail(file, `unsupported patch op ${String(op)} (add, remove, replace, test)`);
  }
}

/** `registry:5000/name:tag@sha256:...` → the name, and what followed it. */
function parseImage(image: string): { name: string; rest: string } {
  const at = image.indexOf('@');
  const withoutDigest = at < 0 ? image : image.slice(0, at);
  const colon = withoutDigest.lastIndexOf(':');
  const end = colon > withoutDigest.lastIndexOf('/') ? colon : withoutDigest.length;
  return { name: image.slice(0, end), rest: image.slice(end) };
}

function describe(manifest: Manifest): string {
  return `${manifest.kind}/${manifest.metadata.name}`;
}

function fail(file: string, message: string): never {
  throw new Error(`${file}: ${message}`);
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: Json): JsonObject {
  if (!isObject(value)) throw new Error(`expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function asArray(value: Json): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}
