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
 *    otherwise pass unnoticed. So each manifest is also type-checked by the TypeScript compiler
 *    against the same package's declarations, whose excess-property check names every unknown
 *    field with its path.
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
          path: detail.instancePath.replace(/^\//, '').replace(/\//g, '.'),
          message: detail.message ?? 'invalid',
        });
      }
    }
  }
  return [...problems, ...unknownFields(known)];
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
      return (
        `import type { I${manifest.kind} as T${index} } from '${module}';\n` +
        `export const m${index}: T${index} = ${JSON.stringify(manifest, null, 2)};\n`
      );
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

  const diagnostics = [
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
  ];
  return diagnostics.map((diagnostic) => {
    const { index, path } = locate(source, diagnostic.start ?? 0);
    const manifest = manifests[index];
    const chain = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n').split('\n');
    const excess = /known properties, and '"?([^'"]+)"?' does not exist in type/.exec(chain[0]);
    return {
      manifest: manifest ? `${manifest.kind}/${manifest.metadata.name}` : '?',
      path,
      message: excess
        ? `unknown field "${excess[1]}" (kubectl apply refuses it)`
        : (chain.at(-1) ?? '').trim(),
    };
  });
}

/** Which manifest (its `m<index>` declaration) and which JSON path a position falls in. */
function locate(source: ts.SourceFile, position: number): { index: number; path: string } {
  let node: ts.Node = source;
  for (;;) {
    const child: ts.Node | undefined = node
      .getChildren(source)
      .find((c) => c.getStart(source) <= position && position < c.getEnd());
    if (!child) break;
    node = child;
  }
  const path: string[] = [];
  let index = -1;
  for (let current: ts.Node | undefined = node; current; current = current.parent) {
    if (ts.isPropertyAssignment(current) && ts.isStringLiteral(current.name)) {
      path.unshift(current.name.text);
    }
    const parent = current.parent as ts.Node | undefined;
    if (parent && ts.isArrayLiteralExpression(parent)) {
      const at = parent.elements.indexOf(current as ts.Expression);
      if (at >= 0) path.unshift(`[${at}]`);
    }
    if (parent && ts.isSourceFile(parent)) {
      // Two statements per manifest: its type's import, then its declaration.
      index = Math.floor(parent.statements.indexOf(current as ts.Statement) / 2);
      break;
    }
  }
  return { index, path: path.join('.').replace(/\.\[/g, '[') };
}
