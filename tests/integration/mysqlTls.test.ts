/**
 * dm-switch's own MySQL/MariaDB connections over TLS (issue 19 item 5), against a sandbox MariaDB with
 * TLS (sandbox/mariadb.ts `tls`, certificates from sandbox/tls.ts): verified by the CA given, refused
 * with the remedy when the CA or the name is wrong, a client certificate for a REQUIRE X509 account,
 * the catch-up wait and the preflight CLI through the same settings.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { PASSWORD_ENV, preflightCommand } from "../../components/cli/preflight";
import { MysqlEndpoint, probe, waitForCatchUp, withConnection } from "../../components/mysql";
import { endpointOf } from "../../components/providers/ports";
import { ADMIN, MariadbInstance, startMariadb } from "../../sandbox/mariadb";
import { generateTls, SandboxTls } from "../../sandbox/tls";
import { adminEndpoint, probeErrors } from "../support/probe";

let dir: string;
let server: MariadbInstance;
let tls: SandboxTls;
/** A CA that did not sign the server's certificate. */
let otherCa: string;
const X509 = { user: "dm_x509", password: "x509-Pw-4d1e" };
const { errors, probeError } = probeErrors();
const ep = (over: Partial<MysqlEndpoint> = {}): MysqlEndpoint => adminEndpoint(server, over);

/** The session's TLS version as the server reports it ("" without TLS). */
const sslVersion = (e: MysqlEndpoint) =>
    withConnection(e, "TLS check", async (q) =>
        String((await q("SHOW SESSION STATUS LIKE 'Ssl_version'"))[0]?.Value ?? ""),
    );

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-mysql-tls-"));
    const t = Date.now();
    const [made, other] = await Promise.all([generateTls(path.join(dir, "tls")), generateTls(path.join(dir, "other"))]);
    tls = made;
    otherCa = other.client.ca;
    server = await startMariadb({ dir, name: "tls", serverId: 1, tls: tls.dmFiles, log: (l) => console.log(l) });
    await server.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY ? REQUIRE X509", [X509.user, X509.password]);
    await server.query("GRANT REPLICATION CLIENT, SLAVE MONITOR, REPLICATION SLAVE ON *.* TO ?@'127.0.0.1'", [
        X509.user,
    ]);
    console.log(`certificates and a MariaDB with TLS in ${Date.now() - t} ms`);
});

after(async () => {
    await server?.stop();
    for (const e of errors) {
        for (const s of [ADMIN.password, X509.password, tls?.client.key]) {
            assert.equal(e.includes(s), false, `a secret appeared in an error: ${e}`);
        }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("probe over TLS verified against the CA given (chain and the address 127.0.0.1 in the certificate)", async () => {
    const e = ep({ tls: { ca: tls.client.ca } });
    const facts = await probe(e);
    assert.equal(facts.serverId, 1);
    assert.match(await sslVersion(e), /^TLSv1\.[23]$/);
    // Without tls the same server is reached in the clear: the setting is what turns TLS on.
    assert.equal(await sslVersion(ep()), "");
});

test("the switch's endpoints carry the instance's TLS (endpointOf), and the catch-up wait uses it", async () => {
    const e = endpointOf(
        { host: server.host, port: server.port, tls: { ca: tls.client.ca } },
        ADMIN.user,
        ADMIN.password,
    );
    assert.match(await sslVersion(e), /^TLSv1\.[23]$/);
    const facts = await probe(e);
    assert.deepEqual(await waitForCatchUp(e, "mariadb", facts.gtidExecuted, 0).then((r) => r.caughtUp), true);
});

test("a CA that did not sign the server's certificate is refused, naming tls.ca", async () => {
    const err = await probeError(probe(ep({ tls: { ca: otherCa } })));
    assert.match(
        err.message,
        new RegExp(
            `^probe of 127\\.0\\.0\\.1:${server.port} failed while connecting as ${ADMIN.user} with TLS \\(verifying 127\\.0\\.0\\.1\\): .+\\. ` +
                "The server's certificate is not signed by tls\\.ca: set tls\\.ca to the PEM of the CA that signed the server's certificate \\(its ssl_ca\\)\\.$",
        ),
    );
    // No CA at all: the system CAs do not know the sandbox's CA either.
    const sys = await probeError(probe(ep({ tls: {} })));
    assert.match(sys.message, /The server's certificate is not signed by a system CA \(no tls\.ca is set\)/);
});

test("the certificate's name is verified: servername localhost passes, another name is refused", async () => {
    assert.match(await sslVersion(ep({ tls: { ca: tls.client.ca, servername: "localhost" } })), /^TLSv1\.[23]$/);
    const err = await probeError(probe(ep({ tls: { ca: tls.client.ca, servername: "db.example.internal" } })));
    assert.match(
        err.message,
        /with TLS \(verifying db\.example\.internal\): .*The server's certificate does not hold the name db\.example\.internal: set tls\.servername to a name it holds, or reissue it with that name\.$/,
    );
});

test("a REQUIRE X509 account connects with the client certificate and key, and not without", async () => {
    const x509 = (t: MysqlEndpoint["tls"]) => ep({ user: X509.user, password: X509.password, tls: t });
    assert.equal((await probe(x509({ ca: tls.client.ca, cert: tls.client.cert, key: tls.client.key }))).serverId, 1);
    const err = await probeError(probe(x509({ ca: tls.client.ca })));
    assert.match(err.message, /Access denied for user 'dm_x509'.*Check the user dm_x509 and its password\./);
});

test("preflight CLI: the target is probed through TLS (--mysql-tls-ca), a wrong CA names the target", async () => {
    const caFile = path.join(dir, "ca.pem");
    const otherFile = path.join(dir, "other-ca.pem");
    fs.writeFileSync(caFile, tls.client.ca);
    fs.writeFileSync(otherFile, otherCa);
    // dm-master is not running: the target's side tells whether the TLS probe got through.
    const run = async (ca: string) => {
        let err = "";
        const argv = [
            "--dm",
            "127.0.0.1:1",
            "--source",
            "src",
            "--flavor",
            "mariadb",
            "--target",
            `127.0.0.1:${server.port}`,
            "--user",
            ADMIN.user,
            "--mysql-tls-ca",
            ca,
            "--json",
        ];
        let out = "";
        const code = await preflightCommand(argv, {
            out: (t) => (out += t),
            err: (t) => (err += t),
            env: { [PASSWORD_ENV]: ADMIN.password },
        });
        errors.push(out, err);
        return { code, error: (JSON.parse(out) as { error?: { sides?: string[]; message: string } }).error };
    };
    const good = await run(caFile);
    assert.equal(good.code, 2);
    assert.deepEqual(good.error?.sides, ["dm"], JSON.stringify(good.error));
    const bad = await run(otherFile);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.error?.sides, ["dm", "target"], JSON.stringify(bad.error));
    assert.match(bad.error!.message, /The server's certificate is not signed by tls\.ca/);
});
