export function distIsCurrent(src: string, out: string): boolean;
