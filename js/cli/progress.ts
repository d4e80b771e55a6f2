// Progress line for long jobs (CLI, benchmarks, converter): a bar on a TTY, plain periodic lines otherwise (CI logs).
export class Progress {
  private done = 0;
  private lastPrint = 0;
  private readonly start = Date.now();
  constructor(private readonly label: string, private readonly total: number, private readonly stream = process.stderr) {}

  tick(n = 1, note = ''): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastPrint < (this.stream.isTTY ? 200 : 2000) && this.done < this.total) return;
    this.lastPrint = now;
    const frac = this.total ? this.done / this.total : 1;
    const eta = frac > 0 ? ((now - this.start) / frac - (now - this.start)) / 1000 : 0;
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    const line = `${this.label} [${bar}] ${this.done}/${this.total}${eta > 1 ? ` eta ${eta.toFixed(0)}s` : ''} ${note}`;
    if (this.stream.isTTY) this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
    else this.stream.write(line + '\n');
    if (this.done >= this.total && this.stream.isTTY) this.stream.write('\n');
  }
}
