/** Agent and persona names as the gateway's API accepts them (no 'vscode': tested on its own). */
export function validateAgentName(value: string, taken: string[] = []): string | undefined {
  const v = value.trim();
  if (!v || v.length > 100) return '1 to 100 characters';
  if (taken.some((t) => t.toLowerCase() === v.toLowerCase())) return `An agent named "${v}" already exists in this project`;
  return undefined;
}
