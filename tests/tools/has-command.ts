import { execFileSync } from 'node:child_process';

/** Whether `name` is a command on PATH (tests that need a system tool skip without it, saying why). */
export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
