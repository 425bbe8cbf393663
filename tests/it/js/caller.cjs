// What the AWS SDK for JavaScript v3 signs with when nothing tells it what to use: its default
// credential chain, one GetCallerIdentity, and the key ID of the Authorization header as it
// leaves for the server. Prints one JSON line; the SDK's own warnings stay on stderr.
"use strict";
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const { NodeHttpHandler } = require("@smithy/node-http-handler");

let signedWith = null;

// The request as it goes on the wire, after signing: the key ID the server sees.
class RecordingHandler extends NodeHttpHandler {
  async handle(request, options) {
    const authorization = request.headers.authorization || request.headers.Authorization || "";
    const found = /Credential=([^/]+)\//.exec(authorization);
    signedWith = found ? found[1] : null;
    return super.handle(request, options);
  }
}

async function main() {
  const client = new STSClient({ requestHandler: new RecordingHandler() });
  const identity = await client.send(new GetCallerIdentityCommand({}));
  process.stdout.write(
    JSON.stringify({
      signedWith,
      arn: identity.Arn,
      environmentKey: process.env.AWS_ACCESS_KEY_ID || null,
    }) + "\n",
  );
}

main().catch((error) => {
  process.stderr.write(`caller: ${error.name}: ${error.message}\n`);
  process.exit(1);
});
