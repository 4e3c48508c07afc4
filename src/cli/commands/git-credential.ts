import { ExitCode, VaultError } from '../../core/errors.js';
import type { Deps } from '../../infra/io.js';

export async function run(_deps: Deps): Promise<number> {
  throw new VaultError('`vault git-credential` is not implemented yet', ExitCode.failure, 'not_implemented');
}
