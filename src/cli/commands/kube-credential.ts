import { Command } from 'commander';
import { act } from '../act.js';
import type { Context } from '../context.js';
import { GRAMMAR } from '../grammar.js';
import { withOptions } from '../options.js';

export function kubeCredentialCommand(ctx: Context) {
  return withOptions(
    new Command('kube-credential')
      .argument('[provider]')
      .description('kubectl exec credential plugin: print an ExecCredential with a valid token'),
    GRAMMAR['kube-credential'],
  )
    .addHelpText(
      'after',
      `
kubectl runs it (users[].user.exec in the kubeconfig) and keeps the token until it expires, so the
token is never written to the kubeconfig nor passed in argv.

Examples:
  users[].user.exec in ~/.kube/config: {apiVersion: client.authentication.k8s.io/v1, command: vault, args: [kube-credential, acme]}
  vault kube-credential acme -a work`,
    )
    .action(act(ctx, async () => (await import('../runs/kube-credential.js')).kubeCredentialRun));
}
