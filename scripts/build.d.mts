export function buildDist(out?: string): Promise<string>;
