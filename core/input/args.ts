import { ValidationError } from '../errors';

/**
 * Task arguments have one canonical form, JSON: what is validated is exactly what is stored and
 * what the job receives. A value that JSON or DynamoDB would change on the way is refused with its
 * path and what to pass instead, before any I/O. The only liberty taken: an object property whose
 * value is `undefined` is left out, as JSON does (it reads the same: `args.x === undefined`).
 */
export const ARGS_LIMITS = {
  /** Levels of nesting below `args` (DynamoDB refuses attribute values nested more than 32 deep; the task item adds one). */
  maxDepth: 30,
  /**
   * Numbers: at most Number.MAX_SAFE_INTEGER in magnitude (the DynamoDB marshalling refuses more,
   * fractions included), and none smaller than DynamoDB's 1e-130 but zero.
   */
  minMagnitude: 1e-130,
  /** @default 32 KiB of JSON (an option of the client). */
  maxBytes: 32 * 1024,
} as const;

const fixFor = (value: object): string | undefined => {
  if (value instanceof Date) return `a Date; pass an ISO 8601 string (${Number.isNaN(value.getTime()) ? 'it is also an Invalid Date' : `value.toISOString(): "${value.toISOString()}"`})`;
  if (value instanceof Map) return 'a Map; pass a plain object (Object.fromEntries(map)) or an array of [key, value] pairs';
  if (value instanceof Set) return 'a Set; pass an array ([...set])';
  if (value instanceof RegExp) return 'a RegExp; pass its source as a string';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return 'binary data; pass it base64-encoded as a string, or store it in S3 and pass its key';
  if (value instanceof Error) return 'an Error; pass its message (and whatever else you need) as strings';
  return undefined;
};

/** An unpaired UTF-16 surrogate: UTF-8 (and so DynamoDB) cannot hold it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const childPath = (path: string, key: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

function check(value: unknown, path: string, depth: number, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new ValidationError(path, 'is a string with an unpaired UTF-16 surrogate, which cannot be stored as UTF-8; remove it, or pass the data base64-encoded');
      return value;
    case 'boolean':
      return value;
    case 'number': {
      if (!Number.isFinite(value)) throw new ValidationError(path, `is ${value}, which JSON cannot hold (it becomes null); pass a finite number, null, or a string`);
      if (Object.is(value, -0)) throw new ValidationError(path, 'is -0, which JSON turns into 0; pass 0');
      const magnitude = Math.abs(value);
      if (magnitude > Number.MAX_SAFE_INTEGER) {
        throw new ValidationError(path, `${value} is past the safe integer range (±${Number.MAX_SAFE_INTEGER}): it may not be the number you meant, and the DynamoDB marshalling refuses it; pass it as a string`);
      }
      if (magnitude !== 0 && magnitude < ARGS_LIMITS.minMagnitude) {
        throw new ValidationError(path, `${value} is smaller in magnitude than DynamoDB stores (1e-130); pass it as a string, or 0`);
      }
      return value;
    }
    case 'bigint':
      throw new ValidationError(path, `is a BigInt (${value}n), which JSON cannot hold; pass it as a string${Number.isSafeInteger(Number(value)) ? ' or a number' : ''}`);
    case 'undefined':
      throw new ValidationError(path, 'is undefined, which JSON cannot hold in this place; pass null, or leave the element out');
    case 'function':
      throw new ValidationError(path, 'is a function; args are data: pass what the job needs to know as JSON, and let the job module hold the code');
    case 'symbol':
      throw new ValidationError(path, 'is a symbol, which JSON cannot hold; pass a string');
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) throw new ValidationError(path, 'refers back to an object that contains it (a cycle), which JSON cannot hold; pass a copy without the cycle');
  if (depth >= ARGS_LIMITS.maxDepth) throw new ValidationError(path, `nests deeper than ${ARGS_LIMITS.maxDepth} levels, more than DynamoDB stores; flatten the structure, or store it in S3 and pass its key`);
  const fix = fixFor(object);
  if (fix) throw new ValidationError(path, `is ${fix}`);
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const out: unknown[] = [];
      for (let i = 0; i < object.length; i++) {
        if (!(i in object)) throw new ValidationError(`${path}[${i}]`, 'is a hole in a sparse array, which JSON turns into null and DynamoDB drops; pass null there');
        out.push(check(object[i], `${path}[${i}]`, depth + 1, seen));
      }
      return out;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (object as { constructor?: { name?: string } }).constructor?.name ?? 'a class';
      throw new ValidationError(path, `is an instance of ${name}, which JSON would turn into a plain object${typeof (object as { toJSON?: unknown }).toJSON === 'function' ? ' (through its toJSON)' : ''}; pass a plain object, e.g. { ...value } or value.toJSON()`);
    }
    if (Object.getOwnPropertySymbols(object).length > 0) throw new ValidationError(path, 'has symbol keys, which JSON drops; use string keys');
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(object)) {
      if (child === undefined) continue;
      if (key === '') throw new ValidationError(path, 'has an empty key (""), which DynamoDB cannot store; give it a name');
      if (key === '__proto__') throw new ValidationError(childPath(path, key), 'is named "__proto__", which does not survive a JSON round trip as data; rename it');
      if (LONE_SURROGATE.test(key)) throw new ValidationError(path, `has a key with an unpaired UTF-16 surrogate (${JSON.stringify(key)}); rename it`);
      out[key] = check(child, childPath(path, key), depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(object);
  }
}

/**
 * The canonical (JSON) form of task arguments: a fresh copy made only of null, booleans, finite
 * numbers, strings, arrays and plain objects, equal to `JSON.parse(JSON.stringify(args))`. No
 * arguments (`undefined`) are `null`. Throws a ValidationError naming the first value that would not
 * survive, or args over `maxBytes` of JSON.
 */
export function canonicalArgs(args: unknown, maxBytes: number = ARGS_LIMITS.maxBytes, field = 'args'): unknown {
  const canonical = args === undefined ? null : check(args, field, 0, new Set());
  const bytes = Buffer.byteLength(JSON.stringify(canonical));
  if (bytes > maxBytes) {
    throw new ValidationError(field, `are ${bytes} bytes of JSON, over the ${maxBytes}-byte limit; store the data in S3 or a database and pass its key or id instead`);
  }
  return canonical;
}
