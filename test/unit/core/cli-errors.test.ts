import { EXIT } from '../../../core/cli/output';
import { exitCodeOf, messageOf } from '../../../core/cli';
import { TaskNotFoundError, ValidationError } from '../../../core/errors';

/** What the CLI says, and exits with, when a command fails: no stack traces, a next step. */
describe('CLI errors', () => {
  const aws = (name: string, message: string) => Object.assign(new Error(message), { name });

  it('an AWS refusal says which grant gives the permission, and is a configuration error', () => {
    const denied = aws('AccessDeniedException', 'User: arn:aws:sts::1:assumed-role/ops is not authorized to perform: dynamodb:Query');
    expect(exitCodeOf(denied)).toBe(EXIT.config);
    expect(messageOf(denied)).toMatch(/^User: .* dynamodb:Query: these AWS credentials may not do that\. Scheduling needs what JobfleetStack\.grantEnqueue grants/);
    expect(exitCodeOf(aws('AccessDenied', 'Access Denied'))).toBe(EXIT.config);
  });

  it('a missing table points at the local fleet or --stack', () => {
    const missing = aws('ResourceNotFoundException', 'Requested resource not found');
    expect(exitCodeOf(missing)).toBe(EXIT.config);
    expect(messageOf(missing)).toMatch(/run `npm start`.*--stack NAME/i);
  });

  it('input and lookup errors keep their own codes', () => {
    expect(exitCodeOf(new ValidationError('options.at', 'is not a time'))).toBe(EXIT.usage);
    expect(exitCodeOf(new TaskNotFoundError('01JZZZZZZZZZZZZZZZZZZZZZZZ.noop'))).toBe(EXIT.notFound);
    expect(exitCodeOf(new Error('something else'))).toBe(EXIT.failed);
  });
});
