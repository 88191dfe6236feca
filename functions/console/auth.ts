import { timingSafeEqual } from 'node:crypto';

/** Who may use the console: nobody asked (loopback only), a token, or a user and password (basic auth). */
export type ConsoleAuth = { readonly token: string } | { readonly user: string; readonly password: string };

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Whether a request's credentials satisfy `auth`. A token is accepted as `Authorization: Bearer
 * <token>`, or as the password of basic auth (so a browser's own prompt works), or as the
 * `jobfleet_token` cookie the console sets after a `?token=` link.
 */
export function authorized(auth: ConsoleAuth, headers: { authorization?: string; cookie?: string }): boolean {
  const header = headers.authorization ?? '';
  const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
  const basic = /^Basic\s+(.+)$/i.exec(header)?.[1];
  const [user, ...rest] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
  const password = rest.join(':');
  const cookie = /(?:^|;\s*)jobfleet_token=([^;]+)/.exec(headers.cookie ?? '')?.[1];
  if ('token' in auth) return [bearer, basic ? password : undefined, cookie ? decodeURIComponent(cookie) : undefined].some((t) => t !== undefined && same(t, auth.token));
  return basic !== undefined && same(user ?? '', auth.user) && same(password, auth.password);
}

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
