/**
 * Builds DynamoDB update and condition expressions from plain objects, with every name and
 * value aliased, so callers state intent ("set these, only if status is one of those").
 */
export interface Change {
  readonly set?: Record<string, unknown>;
  readonly remove?: readonly string[];
  /** Adds numbers or set members. */
  readonly add?: Record<string, unknown>;
  /** Removes set members. */
  readonly delete?: Record<string, unknown>;
  /** Appends to a list, creating it when absent (list_append(if_not_exists(...))). */
  readonly append?: Record<string, readonly unknown[]>;
}

export interface Guard {
  /** Equality conditions, e.g. { status: 'pending', token: 'abc' }; an array means "one of". */
  readonly equals?: Record<string, unknown>;
  readonly exists?: readonly string[];
  readonly notExists?: readonly string[];
  /** A set with room: absent, smaller than `limit`, or already holding `member` (concurrency counters). */
  readonly setRoom?: { readonly attr: string; readonly limit: number; readonly member: string };
}

export interface Expressions {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

export function buildExpressions(change: Change | undefined, guard: Guard): Expressions {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  let n = 0;
  const name = (attr: string) => {
    const alias = `#${attr.replace(/[^A-Za-z0-9_]/g, '_')}`;
    names[alias] = attr;
    return alias;
  };
  const value = (v: unknown) => {
    const alias = `:v${n++}`;
    values[alias] = v;
    return alias;
  };
  const clauses: string[] = [];
  const sets = [
    ...Object.entries(change?.set ?? {}).map(([k, v]) => `${name(k)} = ${value(v)}`),
    ...Object.entries(change?.append ?? {}).map(([k, v]) => `${name(k)} = list_append(if_not_exists(${name(k)}, ${value([])}), ${value(v)})`),
  ];
  if (sets.length) clauses.push(`SET ${sets.join(', ')}`);
  if (change?.remove?.length) clauses.push(`REMOVE ${change.remove.map(name).join(', ')}`);
  if (change?.add && Object.keys(change.add).length) clauses.push(`ADD ${Object.entries(change.add).map(([k, v]) => `${name(k)} ${value(v)}`).join(', ')}`);
  if (change?.delete && Object.keys(change.delete).length) clauses.push(`DELETE ${Object.entries(change.delete).map(([k, v]) => `${name(k)} ${value(v)}`).join(', ')}`);

  const conditions: string[] = [];
  for (const [k, v] of Object.entries(guard.equals ?? {})) {
    if (Array.isArray(v)) conditions.push(`${name(k)} IN (${v.map(value).join(', ')})`);
    else conditions.push(`${name(k)} = ${value(v)}`);
  }
  for (const k of guard.exists ?? []) conditions.push(`attribute_exists(${name(k)})`);
  for (const k of guard.notExists ?? []) conditions.push(`attribute_not_exists(${name(k)})`);
  if (guard.setRoom) {
    const attr = name(guard.setRoom.attr);
    conditions.push(`(attribute_not_exists(${attr}) OR size(${attr}) < ${value(guard.setRoom.limit)} OR contains(${attr}, ${value(guard.setRoom.member)}))`);
  }

  return {
    ...(clauses.length ? { UpdateExpression: clauses.join(' ') } : {}),
    ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}
