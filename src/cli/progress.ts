// A one-line progress display on a terminal's stderr; silent when stderr is not a terminal (CI logs stay readable).

export interface ProgressLine {
  update(text: string): void;
  done(): void;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 100) return; // at most ten repaints a second
      last = now;
      shown = true;
      stream.write(`\r\x1b[2K${text.slice(0, (stream.columns || 80) - 1)}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}
