/**
 * How many of a group's leases (a stream trigger's shards) a node should hold: its fair share among the
 * live nodes. Every node computes the same table from the same sorted list of live nodes, so the shares
 * add up to the number of resources exactly: floor(n / N) each, and one more for n mod N of the nodes.
 * Which nodes get the extra one rotates with the group (by a hash of its name), so with many groups of 4
 * shards on 3 nodes the remainders spread over all three instead of piling on the first. No node's
 * share exceeds ceil(n / N).
 */
export function fairShare(p: {
  nodes: readonly string[];
  self: string;
  group: string;
  resources: number;
}): number {
  const count = p.nodes.length;
  const rank = p.nodes.indexOf(p.self);
  if (count === 0 || rank < 0) return 0;
  const base = Math.floor(p.resources / count);
  const extra = p.resources % count;
  const position = (rank + (hashOf(p.group) % count)) % count;
  return base + (position < extra ? 1 : 0);
}

/** FNV-1a (32-bit) of the group name: stable across nodes and runs. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
