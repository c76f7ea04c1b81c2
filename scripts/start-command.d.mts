export function startCommand(packageJsonPath?: string | URL): { env: Record<string, string>; args: string[] };
