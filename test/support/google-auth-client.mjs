// A job using Google's Node client library (google-auth-library 10) the usual way: application
// default credentials, which find the metadata server through GCE_METADATA_HOST. It prints the
// project and a token, waits `argv[2]` seconds, and prints the token the library holds then.
import { GoogleAuth } from 'google-auth-library';

const auth = new GoogleAuth({ scopes: process.argv[3] ? process.argv[3].split(',') : [] });
const client = await auth.getClient();
console.log(await auth.getProjectId().catch(() => '(no project)'));
console.log((await client.getAccessToken()).token);
await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2]) * 1000));
console.log((await client.getAccessToken()).token);
