export function buildDist(): Promise<string>;
