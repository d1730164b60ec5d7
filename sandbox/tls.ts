/**
 * Certificates for a sandbox whose DM runs with TLS, made with the `openssl` command (Node's crypto
 * cannot issue X.509 certificates). One private CA signs:
 * - the DM certificate that dm-master and dm-worker both present and use as clients of each other
 *   (extended key usage serverAuth and clientAuth, SAN `127.0.0.1` and `localhost`, as DM's own
 *   `dm/tests/tls/conf/generate_tls.sh` makes them);
 * - a client certificate (clientAuth only) for dm-switch and dmctl: DM with `ssl-ca` set requires and
 *   verifies a client certificate.
 * Keys are EC P-256 (fast to generate, accepted by Go's and Node's TLS) in PKCS#8, written 0600 in a
 * 0700 folder; CA serials and requests stay in that folder too.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** PEM contents a client presents (what `DmEndpoint.tls` takes). */
export interface TlsPems {
    /** The CA that signed dm-master's certificate. */
    ca: string;
    /** The client certificate. */
    cert: string;
    /** The client's private key (PKCS#8 PEM): a secret. */
    key: string;
}

/** What generateTls wrote. */
export interface SandboxTls {
    /** The folder holding every file (0700). */
    dir: string;
    /** Paths for DM's `ssl-ca`, `ssl-cert`, `ssl-key` (dm-master and dm-worker). */
    dmFiles: { ca: string; cert: string; key: string };
    /** The client's PEM contents (dm-switch, dmctl). */
    client: TlsPems;
}

const EXTENSIONS = (usage: string) =>
    [
        "[ext]",
        "basicConstraints = critical,CA:FALSE",
        "keyUsage = critical,digitalSignature,keyEncipherment",
        `extendedKeyUsage = ${usage}`,
        "subjectAltName = DNS:localhost,IP:127.0.0.1",
        "",
    ].join("\n");

function openssl(args: string[], cwd: string): Promise<void> {
    return new Promise((resolve, reject) => {
        execFile("openssl", args, { cwd, timeout: 30_000 }, (err, _stdout, stderr) => {
            if (!err) {
                return resolve();
            }
            const code = (err as NodeJS.ErrnoException).code;
            const why =
                code === "ENOENT"
                    ? "the openssl command is not installed; install it (apt-get install openssl)"
                    : `${stderr.trim().split("\n").pop() ?? err.message}`;
            reject(new Error(`openssl ${args[0]} failed in ${cwd}: ${why}.`));
        });
    });
}

/** A key and a certificate signed by the CA in `dir` (ca.pem, ca.key), for `usage`. */
async function issue(dir: string, name: string, cn: string, usage: string): Promise<void> {
    const ext = path.join(dir, `${name}.ext`);
    fs.writeFileSync(ext, EXTENSIONS(usage), { mode: 0o600 });
    await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`], dir);
    fs.chmodSync(path.join(dir, `${name}.key`), 0o600);
    await openssl(
        ["req", "-new", "-batch", "-sha256", "-subj", `/CN=${cn}`, "-key", `${name}.key`, "-out", `${name}.csr`],
        dir,
    );
    await openssl(
        // -days: the sandbox lives for minutes; a week leaves room for a long-lived sandbox:up.
        ["x509", "-req", "-sha256", "-days", "7", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key"].concat([
            "-CAcreateserial",
            "-extfile",
            ext,
            "-extensions",
            "ext",
            "-out",
            `${name}.pem`,
        ]),
        dir,
    );
}

/**
 * Generates a CA, DM's certificate and a client certificate into `dir` (created 0700).
 * Throws naming openssl and the remedy when it is missing.
 */
export async function generateTls(dir: string): Promise<SandboxTls> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"], dir);
    fs.chmodSync(path.join(dir, "ca.key"), 0o600);
    await openssl(
        [
            "req",
            "-x509",
            "-new",
            "-batch",
            "-sha256",
            "-days",
            "7",
            "-subj",
            "/CN=dm-switch sandbox CA",
            "-key",
            "ca.key",
        ]
            .concat([
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ])
            .concat(["-out", "ca.pem"]),
        dir,
    );
    // One after the other: both update the CA's serial file.
    await issue(dir, "dm", "dm", "serverAuth,clientAuth");
    await issue(dir, "client", "dm-switch", "clientAuth");
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    return {
        dir,
        dmFiles: { ca: path.join(dir, "ca.pem"), cert: path.join(dir, "dm.pem"), key: path.join(dir, "dm.key") },
        client: { ca: read("ca.pem"), cert: read("client.pem"), key: read("client.key") },
    };
}
