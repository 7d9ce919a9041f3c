/**
 * A progress bar on stderr for long operations (sending a file of messages, a redrive). Drawn only
 * when stderr is a terminal, so scripts and logs get the final summary alone.
 */
export interface Progress {
  update(done: number, total?: number): void;
  finish(summary: string): void;
}

export function createProgress(params: { label: string; total: number; stream?: NodeJS.WriteStream }): Progress {
  const stream = params.stream ?? process.stderr;
  const interactive = Boolean(stream.isTTY);
  let total = params.total;
  let lastDraw = 0;
  const started = Date.now();
  const draw = (done: number) => {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(fraction * width);
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    stream.write(`\r${params.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${Math.round(rate)}/s)\x1b[K`);
  };
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      if (!interactive) return;
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      draw(done);
    },
    finish(summary) {
      if (interactive) stream.write('\r\x1b[K');
      if (summary !== '') stream.write(`${summary}\n`);
    },
  };
}
