/**
 * A function's published versions and aliases run as functions of their own, named `name:N` and
 * `name:alias` (catalog/version-service.ts). Listings and metrics show them under their function
 * instead: the name before the colon, and the qualifier after it (`$LATEST` for the function itself).
 */

export const LATEST = '$LATEST';

/** `orders:3` is `{function: 'orders', version: '3'}`; `orders` is `{function: 'orders', version: '$LATEST'}`. */
export function splitQualifier(name: string): { function: string; version: string } {
  const colon = name.indexOf(':');
  return colon < 0 ? { function: name, version: LATEST } : { function: name.slice(0, colon), version: name.slice(colon + 1) };
}

/** A published version's qualifier is its number; any other qualifier is an alias's name. */
export const isVersionNumber = (qualifier: string): boolean => /^[0-9]+$/.test(qualifier);

/** Version numbers in numeric order, aliases by name. */
export function sortQualifiers(qualifiers: string[]): string[] {
  return qualifiers.sort((a, b) => {
    const [na, nb] = [isVersionNumber(a), isVersionNumber(b)];
    if (na && nb) return Number(a) - Number(b);
    if (na !== nb) return na ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}
