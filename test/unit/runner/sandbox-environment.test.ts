import { sandboxEnvironment, taskEnvironment } from '../../../runner/sandbox/environment';
import { parseIdentityRange } from '../../../runner/sandbox/identity';
import { assumeRoleRequest } from '../../../runner/job-credentials';

describe('the sandbox environment', () => {
  const runnerEnv = {
    PATH: '/usr/bin',
    TZ: 'UTC',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL: 'http://localstack:4566',
    AWS_ACCESS_KEY_ID: 'AKIA',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'token',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/guid',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.2/x',
    AWS_CONTAINER_AUTHORIZATION_TOKEN: 'agent',
    ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/id',
    ECS_AGENT_URI: 'http://169.254.170.2/api/id',
    JOBFLEET_TABLE: 'tasks',
    RUNNER_CLASS: 'small',
    HOME: '/root',
    JOB_REPORTS_BUCKET: 'reports',
    LC_ALL: 'C.UTF-8',
  };

  it('is an allowlist: no credentials, no metadata endpoints, no runner settings', () => {
    expect(sandboxEnvironment(runnerEnv)).toEqual({
      PATH: '/usr/bin',
      TZ: 'UTC',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://localstack:4566',
      JOB_REPORTS_BUCKET: 'reports',
      LC_ALL: 'C.UTF-8',
    });
  });

  it('gets the task its own home and temporary directory, and the job role credentials only when given', () => {
    expect(taskEnvironment('/w/s/t/tmp')).toEqual({ HOME: '/w/s/t/tmp', TMPDIR: '/w/s/t/tmp' });
    expect(taskEnvironment('/t', { accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T', expiration: 0 })).toMatchObject({
      AWS_ACCESS_KEY_ID: 'A',
      AWS_SECRET_ACCESS_KEY: 'S',
      AWS_SESSION_TOKEN: 'T',
      AWS_CREDENTIAL_EXPIRATION: '1970-01-01T00:00:00.000Z',
    });
  });
});

describe('sandbox uids', () => {
  it('"auto" switches only as root; a range needs root and stays out of system accounts', () => {
    expect(parseIdentityRange('auto', true)).toEqual({ first: 61000, last: 61999 });
    expect(parseIdentityRange('auto', false)).toBeUndefined();
    expect(parseIdentityRange('none', true)).toBeUndefined();
    expect(() => parseIdentityRange('100-200', true)).toThrow(/1000 or above/);
    expect(() => parseIdentityRange('61000-61001', false)).toThrow(/root/);
    expect(() => parseIdentityRange('lots', true)).toThrow(/range/);
  });
});

describe('the job role session', () => {
  it('is named and tagged after the task and lasts its max execution time, within what STS allows a chained role', () => {
    const req = assumeRoleRequest('arn:aws:iam::123456789012:role/r', { id: '01ABC', job: 'report', attempt: 2, maxExecutionMs: 120_000 });
    expect(req).toEqual({
      RoleArn: 'arn:aws:iam::123456789012:role/r',
      RoleSessionName: '01ABC-2',
      DurationSeconds: 900,
      Tags: [
        { Key: 'taskId', Value: '01ABC' },
        { Key: 'job', Value: 'report' },
        { Key: 'attempt', Value: '2' },
      ],
    });
    expect(assumeRoleRequest('r', { id: 'x', job: 'j', attempt: 1, maxExecutionMs: 30 * 60_000 }).DurationSeconds).toBe(1860);
    expect(assumeRoleRequest('r', { id: 'x', job: 'j', attempt: 1, maxExecutionMs: 5 * 3600_000 }).DurationSeconds).toBe(3600);
  });
});
