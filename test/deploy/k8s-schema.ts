import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import ts from 'typescript';
import type { Manifest } from './kustomize';

/**
 * Validates Kubernetes manifests offline against the API's schemas, twice over:
 *
 * 1. JSON Schema: the validators that npm `kubernetes-models` (Kubernetes 1.33 OpenAPI) and
 *    `@kubernetes-models/prometheus-operator` (the ServiceMonitor CRD's schema) ship, compiled
 *    with ajv: types, required fields, enums, patterns, formats (quantities, int-or-string).
 * 2. Unknown fields: those schemas allow extra properties, while `kubectl apply` (strict field
 *    validation, the default) refuses them, and a misspelt field such as `readinesProbe` would
 *    otherwise pass unnoticed. So every key of each manifest is looked up, with the TypeScript
 *    compiler's type checker, in the same package's type declarations of its kind (generated
 *    from the same OpenAPI document), and each one that is not there is reported with its path.
 *
 * An apiVersion/kind with no schema in those packages is an error, never a skip.
 */

export interface Problem {
  /** `Kind/name` of the manifest. */
  manifest: string;
  /** JSON path inside it, e.g. `spec.template.spec.containers[0].readinesProbe`. */
  path: string;
  message: string;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

const load = createRequire(__filename);

/** Custom resources whose schemas come from a package other than kubernetes-models. */
const CRD_PACKAGES: Record<string, string> = {
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

function modelModule(apiVersion: string): string {
  return CRD_PACKAGES[apiVersion] ?? `kubernetes-models/${apiVersion}`;
}

function modelClass(manifest: Manifest): ModelClass | undefined {
  try {
    const models = load(modelModule(manifest.apiVersion)) as Record<string, ModelClass | undefined>;
    return models[manifest.kind];
  } catch {
    return undefined;
  }
}

export function validateManifests(manifests: Manifest[]): Problem[] {
  const problems: Problem[] = [];
  const known: Manifest[] = [];
  for (const manifest of manifests) {
    const name = `${manifest.kind}/${manifest.metadata?.name}`;
    const Model = modelClass(manifest);
    if (!Model) {
      problems.push({
        manifest: name,
        path: '',
        message: `no schema for ${manifest.apiVersion} ${manifest.kind} (test/deploy/k8s-schema.ts)`,
      });
      continue;
    }
    known.push(manifest);
    try {
      new Model(manifest).validate();
    } catch (error) {
      const details = (error as { errors?: Array<{ instancePath: string; message?: string }> })
        .errors;
      for (const detail of details ?? [{ instancePath: '', message: (error as Error).message }]) {
        problems.push({
          manifest: name,
          path: jsonPath(detail.instancePath),
          message: detail.message ?? 'invalid',
        });
      }
    }
  }
  return [...problems, ...unknownFields(known)];
}

/** A JSON pointer (`/spec/containers/0/name`) as the path the type check reports too. */
function jsonPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((token) => (/^\d+$/.test(token) ? `[${token}]` : `.${token}`))
    .join('')
    .replace(/^\./, '');
}

// The declarations of kubernetes-models are parsed once per process, not once per check.
const declarationCache = new Map<string, ts.SourceFile | undefined>();
const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  target: ts.ScriptTarget.ES2022,
};

function unknownFields(manifests: Manifest[]): Problem[] {
  if (manifests.length === 0) return [];
  // A file at the repository root, so that its imports resolve in node_modules.
  const fileName = resolve(__dirname, '../../k8s-manifests.ts');
  const text = manifests
    .map((manifest, index) => {
      const module = `${modelModule(manifest.apiVersion)}/${manifest.kind}`;
      return `import type { I${manifest.kind} as T${index} } from '${module}';\nexport declare const m${index}: T${index};\n`;
    })
    .join('');
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const host = ts.createCompilerHost(OPTIONS, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, onError) => {
    if (name === fileName) return source;
    if (!declarationCache.has(name)) {
      declarationCache.set(name, getSourceFile(name, languageVersion, onError));
    }
    return declarationCache.get(name);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], OPTIONS, host);
  const checker = program.getTypeChecker();

  const problems: Problem[] = program.getSemanticDiagnostics(source).map((diagnostic) => ({
    manifest: 'test/deploy/k8s-schema.ts',
    path: '',
    message: ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
  }));
  const declarations = source.statements.filter(ts.isVariableStatement);
  manifests.forEach((manifest, index) => {
    const declaration = declarations[index].declarationList.declarations[0];
    const report = (path: string, field: string) =>
      problems.push({
        manifest: `${manifest.kind}/${manifest.metadata.name}`,
        path: path === '' ? field : `${path}.${field}`,
        message: `unknown field "${field}" (kubectl apply refuses it)`,
      });
    walk(checker, manifest, checker.getTypeAtLocation(declaration.name), '', report);
  });
  return problems;
}

/** Every key of `value` must be a property of `type` (or fall under its index signature). */
function walk(
  checker: ts.TypeChecker,
  value: unknown,
  type: ts.Type,
  path: string,
  report: (path: string, field: string) => void,
): void {
  const members = (
    checker.getNonNullableType(type).isUnion()
      ? (checker.getNonNullableType(type) as ts.UnionType).types
      : [checker.getNonNullableType(type)]
  ).filter((member) => member.flags & ts.TypeFlags.Object);
  if (members.length === 0) return; // a scalar, or `any`: nothing to check below
  if (Array.isArray(value)) {
    const element = members
      .map((member) => checker.getIndexTypeOfType(member, ts.IndexKind.Number))
      .find((found) => found !== undefined);
    if (element) value.forEach((item, i) => walk(checker, item, element, `${path}[${i}]`, report));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [field, child] of Object.entries(value)) {
    const property = members
      .map((member) => checker.getPropertyOfType(member, field))
      .find((found) => found !== undefined);
    const childType = property
      ? checker.getTypeOfSymbol(property)
      : members
          .map((member) => checker.getIndexTypeOfType(member, ts.IndexKind.String))
          .find((found) => found !== undefined);
    if (childType === undefined) report(path, field);
    else walk(checker, child, childType, path === '' ? field : `${path}.${field}`, report);
  }
}
