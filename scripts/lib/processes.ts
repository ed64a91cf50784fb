import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Runs a command with inherited output; rejects when it exits non-zero. */
export function runToCompletion(command: string, args: string[], options: SpawnOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited with ${code ?? signal}`))));
  });
}

/** Like runToCompletion, but resolves with the exit code instead of rejecting. */
export function exitCodeOf(command: string, args: string[], options: SpawnOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * Long-running children (web server, worker) that live and die together: if one exits,
 * the others are stopped; SIGINT/SIGTERM stop them all, then `onStopped` runs.
 */
export class ProcessGroup {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;
  private readonly done: Promise<number>;
  private resolveDone!: (code: number) => void;

  constructor(private readonly log: (m: string) => void) {
    this.done = new Promise((r) => (this.resolveDone = r));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (!this.stopping) this.log(`${signal} received, stopping…`);
        void this.stop(0);
      });
    }
  }

  spawn(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): void {
    const child = spawn(command, args, { stdio: 'inherit', env });
    this.children.set(name, child);
    child.once('exit', (code, signal) => {
      this.children.delete(name);
      if (!this.stopping) {
        this.log(`${name} exited unexpectedly (${code ?? signal}); stopping the rest`);
        void this.stop(code || 1);
      } else if (this.children.size === 0) {
        this.resolveDone(this.exitCode);
      }
    });
  }

  private exitCode = 0;

  async stop(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.exitCode = code;
    if (this.children.size === 0) this.resolveDone(code);
    for (const child of this.children.values()) child.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const child of this.children.values()) child.kill('SIGKILL');
    }, 10_000);
    await this.done;
    clearTimeout(force);
  }

  /** Resolves with the exit code once every child has stopped. */
  wait(): Promise<number> {
    return this.done;
  }
}
