import { ECSClient, UpdateTaskProtectionCommand } from '@aws-sdk/client-ecs';
import type { Logger } from 'pino';
import { systemClock, type Clock, type Timer } from '../core/clock';

/** Turns ECS scale-in protection of this runner's own task on or off. */
export interface ProtectionPort {
  set(enabled: boolean, expiresInMinutes: number): Promise<void>;
}

/** Reads this task's ARN and cluster from the ECS task metadata endpoint (v4). */
export async function ecsTaskIdentity(metadataUri: string, fetchFn: typeof fetch = fetch): Promise<{ cluster: string; taskArn: string }> {
  const res = await fetchFn(`${metadataUri.replace(/\/$/, '')}/task`);
  if (!res.ok) throw new Error(`ECS task metadata answered ${res.status}`);
  const body = (await res.json()) as { Cluster?: string; TaskARN?: string };
  if (!body.Cluster || !body.TaskARN) throw new Error('ECS task metadata has no Cluster or TaskARN');
  return { cluster: body.Cluster, taskArn: body.TaskARN };
}

export function ecsProtectionPort(client: ECSClient, identity: { cluster: string; taskArn: string }): ProtectionPort {
  return {
    async set(enabled, expiresInMinutes) {
      const res = await client.send(
        new UpdateTaskProtectionCommand({ cluster: identity.cluster, tasks: [identity.taskArn], protectionEnabled: enabled, ...(enabled ? { expiresInMinutes } : {}) }),
      );
      if (res.failures?.length) throw new Error(`UpdateTaskProtection failed: ${res.failures.map((f) => `${f.reason} ${f.detail ?? ''}`).join('; ')}`);
    },
  };
}

/** Builds the port on ECS; off ECS (no metadata variable) there is nothing to protect. */
export async function createProtectionPort(metadataUri: string | undefined, region: string, logger: Logger): Promise<ProtectionPort | undefined> {
  if (!metadataUri) {
    logger.info('not running on ECS (no ECS_CONTAINER_METADATA_URI_V4): scale-in protection is skipped');
    return undefined;
  }
  try {
    const identity = await ecsTaskIdentity(metadataUri);
    logger.info({ taskArn: identity.taskArn, cluster: identity.cluster }, 'scale-in protection enabled for this ECS task while it runs tasks');
    // ECS is always the real AWS: the project's endpoint override (LocalStack) does not apply.
    return ecsProtectionPort(new ECSClient({ region }), identity);
  } catch (err) {
    logger.warn({ err }, 'could not read the ECS task metadata: scale-in protection is skipped');
    return undefined;
  }
}

export interface ScaleInProtectionOptions {
  /** Idle this long before protection is released, so back-to-back tasks do not flap it. */
  readonly releaseDelayMs: number;
  /** Protection lasts this long and is renewed halfway while busy. @default 60 */
  readonly expiresInMinutes?: number;
  readonly clock?: Clock;
}

/**
 * Keeps the runner's ECS task protected from scale-in while it has any task in hand, and
 * releases it when idle. Calls are serialised and coalesced to the latest wanted state; a failed
 * call is logged and retried at the next change or renewal. Without a port, it does nothing.
 */
export class ScaleInProtection {
  private wanted = false;
  private actual = false;
  private syncing?: Promise<void>;
  private releaseTimer?: Timer;
  private renewTimer?: Timer;

  constructor(
    private readonly port: ProtectionPort | undefined,
    private readonly logger: Logger,
    private readonly options: ScaleInProtectionOptions,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  private readonly clock: Clock;

  /** Call whenever the number of tasks in hand changes. */
  setBusy(busy: boolean): void {
    if (!this.port) return;
    if (busy) {
      this.releaseTimer?.cancel();
      this.releaseTimer = undefined;
      this.want(true);
    } else if (!this.releaseTimer && this.wanted) {
      this.releaseTimer = this.clock.setTimer(this.options.releaseDelayMs, () => {
        this.releaseTimer = undefined;
        this.want(false);
      });
    }
  }

  /** Releases at once (shutdown) and waits for the call. */
  async release(): Promise<void> {
    if (!this.port) return;
    this.releaseTimer?.cancel();
    this.releaseTimer = undefined;
    this.want(false);
    await this.syncing;
    this.renewTimer?.cancel();
  }

  get isProtected(): boolean {
    return this.actual;
  }

  private want(enabled: boolean): void {
    this.wanted = enabled;
    this.syncing ??= this.sync().finally(() => (this.syncing = undefined));
  }

  private async sync(): Promise<void> {
    const minutes = this.options.expiresInMinutes ?? 60;
    while (this.wanted !== this.actual) {
      const enabled = this.wanted;
      try {
        await (this.port as ProtectionPort).set(enabled, minutes);
        this.actual = enabled;
        this.logger.debug({ protected: enabled }, 'scale-in protection updated');
      } catch (err) {
        this.logger.warn({ err, protected: enabled }, 'could not update scale-in protection');
        break;
      }
    }
    this.renewTimer?.cancel();
    if (this.actual) {
      // Renew halfway through the expiry while busy; a runner that died loses its protection by itself.
      this.renewTimer = this.clock.setTimer((minutes * 60_000) / 2, () => {
        this.actual = false;
        if (this.wanted) this.want(true);
      });
    }
  }
}
