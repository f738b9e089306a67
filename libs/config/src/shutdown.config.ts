import { IsInt, Max, Min } from 'class-validator';
import { Setting } from './config.js';

/** How an app stops: the same for every app, so it is documented once. */
export class ShutdownConfig {
  @Setting(
    'On SIGTERM or SIGINT the app stops accepting connections, answers `/readyz` with 503 and lets requests in flight finish for at most this many milliseconds; then it closes the connections left and exits.',
    10_000,
  )
  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_GRACE_MS: number = 10_000;
}
