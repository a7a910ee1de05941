/**
 * A throwaway test CA, made with openssl once per test process: a server
 * leaf for localhost/127.0.0.1 (rustls and node:tls refuse a CA used as a
 * leaf, so it has `basicConstraints=critical,CA:FALSE`) and a client leaf
 * for certificate authentication.
 */

/** PEM files of the test CA and its leaves. */
export interface TestPki {
  /** The CA certificate. */
  ca: string;
  /** The server certificate (CN=localhost, SAN localhost and 127.0.0.1). */
  cert: string;
  /** The server key. */
  key: string;
  /** A client certificate, CN=alice. */
  clientCert: string;
  /** The client key. */
  clientKey: string;
  /** The directory holding them as files (`ca.pem`, `server.pem`, `server.key`, …). */
  dir: string;
}

let made: Promise<TestPki> | undefined;

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function leaf(dir: string, name: string, subject: string, ext: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
  await openssl(
    dir,
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  );
}

/** Makes (once) and returns the test PKI. */
export function testPki(): Promise<TestPki> {
  made ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "cloverleaf-pki-" });
    await openssl(
      dir,
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=Cloverleaf Test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    await leaf(
      dir,
      "server",
      "/CN=localhost",
      "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    );
    await leaf(
      dir,
      "client",
      "/CN=alice",
      "basicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    );
    const read = (f: string) => Deno.readTextFile(`${dir}/${f}`);
    return {
      ca: await read("ca.pem"),
      cert: await read("server.pem"),
      key: await read("server.key"),
      clientCert: await read("client.pem"),
      clientKey: await read("client.key"),
      dir,
    };
  })();
  return made;
}
