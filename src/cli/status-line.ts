// Progress on stderr: one line redrawn in place on a terminal, plain lines (only the ones worth keeping) otherwise.
import { redact } from '../redact.js';

export interface StatusLine {
  /** True on a terminal: the live status is shown, so fewer lines need to be kept. */
  isLive: boolean;
  /** Replace the live status (terminal only; dropped elsewhere). */
  update(text: string): void;
  /** Print a line that stays (above the live status on a terminal). */
  log(text: string): void;
  /** Remove the live status. */
  clear(): void;
}

const CLEAR = '\r\x1b[2K';

export function createStatusLine(stream: NodeJS.WriteStream): StatusLine {
  if (!stream.isTTY) {
    return { isLive: false, update: () => {}, log: (text) => void stream.write(redact(text) + '\n'), clear: () => {} };
  }
  let current = '';
  let lastDraw = 0;
  const fit = (text: string) => {
    const width = Math.max(20, (stream.columns || 80) - 1);
    return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  };
  const draw = () => {
    if (current !== '') stream.write(CLEAR + fit(current));
  };
  return {
    isLive: true,
    update(text) {
      current = redact(text);
      const now = Date.now();
      if (now - lastDraw < 100) return; // at most ten repaints a second
      lastDraw = now;
      draw();
    },
    log(text) {
      stream.write(CLEAR + redact(text) + '\n');
      draw();
    },
    clear() {
      if (current !== '') stream.write(CLEAR);
      current = '';
    },
  };
}
