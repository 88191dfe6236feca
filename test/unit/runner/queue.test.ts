import { parseDispatchMessage } from '../../../runner/queue';

describe('parseDispatchMessage', () => {
  it('accepts the ticker message', () => {
    expect(parseDispatchMessage('{"v":1,"taskId":"01ABC","token":"t0k"}')).toEqual({ ok: true, message: { taskId: '01ABC', token: 't0k' } });
  });

  it('explains what is wrong with anything else, without throwing', () => {
    expect(parseDispatchMessage('nope')).toMatchObject({ ok: false, error: expect.stringContaining('not JSON') });
    expect(parseDispatchMessage(undefined)).toMatchObject({ ok: false });
    expect(parseDispatchMessage('{"v":2,"taskId":"a","token":"b"}')).toMatchObject({ ok: false, error: expect.stringContaining('v:') });
    expect(parseDispatchMessage('{"v":1,"taskId":""}')).toMatchObject({ ok: false, error: expect.stringMatching(/taskId.*token/s) });
    expect(parseDispatchMessage('[]')).toMatchObject({ ok: false });
  });
});
