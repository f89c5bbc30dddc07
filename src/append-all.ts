// Append many items to an array. `target.push(...items)` passes every item as an argument on the
// stack, so an array of a few hundred thousand (a flat mirror of 150,000 wheels) throws
// "RangeError: Maximum call stack size exceeded"; a loop has no such limit.

/** Append every item of `items` to `target`, in order; returns `target`. */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}
