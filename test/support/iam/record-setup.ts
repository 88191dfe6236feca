/**
 * Jest setupFiles of the integration project: records every AWS call this worker makes (all
 * SDK v3 clients share @smithy/smithy-client's Client.prototype.send) with the process it
 * belongs to, into $JOBFLEET_IAM_CALLS_DIR/<pid>.jsonl. The global teardown evaluates them
 * against the synthesized roles (test/support/iam/check.ts).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { callerOf, iamRequests } from './calls';

const dir = process.env.JOBFLEET_IAM_CALLS_DIR;
const ROOT = join(__dirname, '..', '..', '..');
const classes = DEFAULT_FLEET.classes.map((c) => c.name);
type Send = (this: { config: { serviceId?: string } }, command: { constructor: { name: string }; input: Record<string, unknown> }, ...rest: unknown[]) => unknown;
const proto = Object.getPrototypeOf(SQSClient.prototype) as { send: Send; __jobfleetRecorded?: boolean };

if (dir && !proto.__jobfleetRecorded) {
  proto.__jobfleetRecorded = true;
  const original = proto.send;
  const seen = new Set<string>();
  const file = join(dir, `${process.pid}.jsonl`);
  proto.send = function (this: { config: { serviceId?: string } }, command, ...rest) {
    try {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 80;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      const { caller, site } = callerOf(stack, ROOT);
      const service = this.config?.serviceId ?? 'unknown';
      const requests = iamRequests(service, command.constructor.name, command.input ?? {}, classes);
      const line = JSON.stringify({ caller, service, command: command.constructor.name, site, requests });
      if (!seen.has(line)) {
        seen.add(line);
        appendFileSync(file, `${line}\n`);
      }
    } catch {
      // recording must never change what the call does
    }
    return original.call(this, command, ...rest);
  };
}
