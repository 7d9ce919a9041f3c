/**
 * Objects without their undefined members. With `exactOptionalPropertyTypes` an optional member may be
 * absent but not `undefined`, while validated input (zod marks optional members `T | undefined`) and
 * options built from flags carry explicit undefineds: these drop them on the way into a service, and
 * their types say which members became optional.
 */

/** Members that may be undefined become optional, without undefined; the others stay as they are. */
export type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** `Defined` at every depth of plain data (objects and arrays), as parsed JSON is. */
export type DefinedDeep<T> = T extends readonly (infer U)[]
  ? DefinedDeep<U>[]
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { [K in keyof Defined<T>]: DefinedDeep<Defined<T>[K]> }
      : T;

/** The object without its undefined members (one level). */
export function definedMembers<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Defined<T>;
}

/** Plain data without undefined members at any depth; other objects (Buffers, dates) are kept as they are. */
export function definedDeep<T>(value: T): DefinedDeep<T> {
  if (Array.isArray(value)) return value.map((member: unknown) => definedDeep(member)) as DefinedDeep<T>;
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
    return value as DefinedDeep<T>;
  }
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => [key, definedDeep(member)]),
  ) as DefinedDeep<T>;
}
