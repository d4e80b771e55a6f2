// Child processes of the benchmark driver: long-lived workers spoken to over IPC, and one-shot
// scripts that print one JSON line.
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { ROOT, type Reply, type Request, type Sample } from './common.js';

type Pending = { resolve: (r: unknown) => void; reject: (e: Error) => void };

export class Worker {
  private child: ChildProcess;
  private next = 1;
  private pending = new Map<number, Pending>();
  readonly ready: Promise<void>;
  stderr = '';

  constructor(readonly name: string, args: string[]) {
    this.child = fork(`${ROOT}bench/worker.ts`, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.ready = new Promise((resolve, reject) => {
      this.pending.set(0, { resolve: () => resolve(), reject });
      this.child.on('exit', (code) => {
        const err = new Error(`worker ${name} exited with code ${code}\n${this.stderr}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
    this.child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`worker ${name}: ${m.error}`));
    });
  }

  private request<T>(req: Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.child.send({ ...req, id });
    });
  }

  init(): Promise<Record<string, unknown>> { return this.request({ op: 'init', config: {} }); }
  run(task: string, image: number, reps: number, args?: Record<string, unknown>): Promise<Sample[]> {
    return this.request({ op: 'run', task, image, reps, args });
  }
  stats(): Promise<Record<string, unknown>> { return this.request({ op: 'stats' }); }
  async exit(): Promise<void> { try { await this.request({ op: 'exit' }); } catch { /* already gone */ } }
  kill(): void { this.child.kill(); }
}

/** Runs a script to completion; resolves with its last stdout line parsed as JSON. */
export function runJson<T>(script: string, args: string[], opts: { onStderr?: (s: string) => void; timeoutMs?: number; nodeFlags?: string[] } = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...process.execArgv, `${ROOT}${script}`, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill(), opts.timeoutMs) : null;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; opts.onStderr?.(String(d)); });
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited with ${code}: ${err.slice(-2000)}`));
      try { resolve(JSON.parse(line) as T); } catch { reject(new Error(`${script}: no JSON result (${line.slice(0, 200)})\n${err.slice(-1000)}`)); }
    });
  });
}

/** Runs a script to completion (stdout discarded, stderr passed to onStderr); rejects on a non-zero exit. */
export function runScript(script: string, args: string[], onStderr?: (s: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, `${ROOT}${script}`, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err = (err + d).slice(-4000); onStderr?.(String(d)); });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}: ${err}`))));
  });
}
