import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports';

const MAIN = resolve(__dirname, '../../src/main.ts');

/**
 * Runs src/main.ts in plain Node: .ts files are transpiled file by file on require, as ts-jest
 * does for the tests (isolatedModules, no type check). Needs no `npm run build` and no dist/,
 * which a concurrent build may be replacing.
 */
const BOOT = `
const ts = require('typescript');
const fs = require('node:fs');
const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2023,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  allowSyntheticDefaultImports: true,
  isolatedModules: true,
};
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
require(${JSON.stringify(MAIN)});
`;

/** The app as its own OS process, so it can be paused (SIGSTOP) like a frozen VM or a GC. */
export class ChildApp {
  private exited = false;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    child.once('exit', () => (this.exited = true));
  }

  /** Starts it with this test file's environment (database, key prefix) plus `env`. */
  static async start(env: Record<string, string>, bootTimeoutMs = 90_000): Promise<ChildApp> {
    const port = await freePort();
    const child = spawn(process.execPath, ['-e', BOOT], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // A test run that dies must not leave a (possibly stopped) server behind.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    const app = new ChildApp(child, `http://127.0.0.1:${port}`);
    await app.waitUntilReady(bootTimeoutMs);
    return app;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** SIGTERM (after SIGCONT, a stopped process cannot act on it), then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error(`the app process exited while booting:\n${this.stderr}`);
      try {
        const response = await fetch(`${this.url}/health/ready`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > giveUpAt) {
        await this.stop();
        throw new Error(`the app process was not ready within ${timeoutMs} ms:\n${this.stderr}`);
      }
      await sleep(200);
    }
  }
}
