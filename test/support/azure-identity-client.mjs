// A job using Azure's identity library (@azure/identity 4.13) the usual way: argv[2] names the
// credential (`managed`: ManagedIdentityCredential, `default`: DefaultAzureCredential), which finds
// the managed-identity endpoint through IDENTITY_ENDPOINT and IDENTITY_HEADER. It prints a token for
// the scope argv[3], waits argv[4] seconds, and prints the token the library hands out then.
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';

const [, , kind, scope, wait] = process.argv;
const credential = kind === 'default' ? new DefaultAzureCredential() : new ManagedIdentityCredential();
try {
  console.log((await credential.getToken(scope)).token);
  await new Promise((resolve) => setTimeout(resolve, Number(wait) * 1000));
  console.log((await credential.getToken(scope)).token);
} catch (error) {
  // The library's message carries the endpoint's own (a 401 body's `message`).
  console.error(`azure-identity-client: ${error.name}: ${error.message}`);
  process.exit(1);
}
