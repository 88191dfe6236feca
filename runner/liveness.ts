import { writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../core/clock';

const EVERY_MS = 15_000;

/**
 * Touches the liveness file every 15 s while the runner's event loop runs (the container's
 * health check reads its age). Returns a function that stops it.
 */
export function startLiveness(file: string, clock: Clock, log: Logger): () => void {
  let timer: Timer | undefined;
  let stopped = false;
  const touch = () => {
    if (stopped) return;
    void writeFile(file, `${new Date(clock.now()).toISOString()}\n`).catch((err) => log.warn({ err, file }, 'could not write the liveness file'));
    timer = clock.setTimer(EVERY_MS, touch);
  };
  touch();
  return () => {
    stopped = true;
    timer?.cancel();
  };
}
