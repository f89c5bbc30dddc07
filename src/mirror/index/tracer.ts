// How an index or sync run reports what its phases took: through a tracer its caller gives (the CLI prints one with DIB_PYPI_DEBUG_TIMING=1).

/** Takes one line of timing (`inspect (12 files, 0 threads) 3.1 ms`); the caller decides where it goes. */
export type Tracer = (line: string) => void;

/**
 * A clock over `tracer`: each call traces `phase` with the milliseconds since the previous call (or since
 * the clock was made). Without a tracer it does nothing, not even read the time.
 */
export function phaseClock(tracer: Tracer | undefined): (phase: string) => void {
  if (tracer === undefined) return () => {};
  let last = process.hrtime.bigint();
  return (phase) => {
    const now = process.hrtime.bigint();
    tracer(`${phase} ${(Number(now - last) / 1e6).toFixed(1)} ms`);
    last = now;
  };
}
