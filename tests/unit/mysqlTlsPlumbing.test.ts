/**
 * The MySQL TLS setting of an address reaches every connection dm-switch opens (issue 19 item 5): the
 * switch's endpoints (endpointOf), the policy pack's target and current server (subjectOf), mysql2's
 * options (always verified), and a client key makes a resource input secret. No servers: the live
 * proof is tests/integration/mysqlTls.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isSecret } from "@pulumi/pulumi/output";
import { tlsOptions } from "../../components/mysql/probe";
import { holdsTlsKey, secretWhenTlsKeyed } from "../../components/providers/load";
import { endpointOf } from "../../components/providers/ports";
import { DM_SWITCH_TYPES, isUnprovable, Subject, subjectOf } from "../../policies/subject";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIGHkey-material\n-----END PRIVATE KEY-----\n";
const TLS_B = { ca: CA, cert: CA, key: KEY, servername: "mysql-b.db.internal" };
const TLS_VIP = { ca: CA, servername: "mysql.db.internal" };

const base = {
    dm: { address: "127.0.0.1:8261", transport: "openapi" },
    sourceId: "src",
    flavor: "mariadb",
    user: "dm",
    password: "pw-1",
};

function subject(type: string, props: Record<string, unknown>): Subject {
    const s = subjectOf(type, "v", props);
    assert.ok(s && !isUnprovable(s), JSON.stringify(s));
    return s;
}

test("endpointOf carries the address's TLS setting, and nothing when it has none", () => {
    assert.deepEqual(endpointOf({ host: "10.0.0.2", port: 3306, tls: TLS_B }, "dm", "pw"), {
        host: "10.0.0.2",
        port: 3306,
        user: "dm",
        password: "pw",
        connectTimeoutMs: 5000,
        tls: TLS_B,
    });
    assert.equal("tls" in endpointOf({ host: "10.0.0.2", port: 3306 }, "dm", "pw"), false);
});

test("mysql2 options: the chain and the name always verified; servername names the certificate, the socket goes to the address", () => {
    assert.deepEqual(tlsOptions({ host: "10.0.0.2", port: 3306, user: "dm", password: "pw" }), { host: "10.0.0.2" });
    assert.deepEqual(tlsOptions({ host: "10.0.0.2", port: 3306, user: "dm", password: "pw", tls: {} }), {
        host: "10.0.0.2",
        ssl: { ca: undefined, cert: undefined, key: undefined, rejectUnauthorized: true, verifyIdentity: true },
    });
    const o = tlsOptions({ host: "10.0.0.2", port: 3306, user: "dm", password: "pw", tls: TLS_B });
    assert.equal(o.host, "mysql-b.db.internal");
    assert.deepEqual(o.ssl, { ca: CA, cert: CA, key: KEY, rejectUnauthorized: true, verifyIdentity: true });
    assert.equal(typeof o.stream, "function");
});

test("the policy pack probes a Vip's target with the instance's TLS and the VIP with the address's", () => {
    const s = subject(DM_SWITCH_TYPES.Vip, {
        ...base,
        instances: {
            "mysql-a": { host: "10.0.0.1", port: 3306 },
            "mysql-b": { host: "10.0.0.2", port: 3306, tls: TLS_B },
        },
        target: "mysql-b",
        address: { host: "10.0.0.100", port: 3306, tls: TLS_VIP },
    });
    assert.deepEqual(s.args.target.tls, TLS_B);
    assert.deepEqual(s.args.current?.tls, TLS_VIP);
    assert.ok(s.secrets.includes(KEY), "the client key is scrubbed from what the pack reports");
});

test("the policy pack probes a SourceBinding's address with its own TLS, or its instance's (address mode)", () => {
    const own = subject(DM_SWITCH_TYPES.SourceBinding, {
        ...base,
        host: "10.0.0.100",
        port: 3306,
        tls: TLS_VIP,
        enableGtid: true,
    });
    assert.deepEqual(own.args.target.tls, TLS_VIP);
    const named = subject(DM_SWITCH_TYPES.SourceBinding, {
        ...base,
        host: "10.0.0.2",
        port: 3306,
        instance: "mysql-b",
        instances: {
            "mysql-a": { host: "10.0.0.1", port: 3306 },
            "mysql-b": { host: "10.0.0.2", port: 3306, tls: TLS_B },
        },
        enableGtid: true,
    });
    assert.deepEqual(named.args.target.tls, TLS_B);
    const none = subject(DM_SWITCH_TYPES.SourceBinding, { ...base, host: "10.0.0.1", port: 3306, enableGtid: true });
    assert.equal(none.args.target.tls, undefined);
});

test("a client key anywhere in the instances makes the resource input secret; a CA alone does not", async () => {
    assert.equal(holdsTlsKey({ a: { host: "h", port: 1, tls: TLS_B } }), true);
    assert.equal(holdsTlsKey({ a: { host: "h", port: 1, tls: TLS_VIP } }), false);
    assert.equal(await isSecret(secretWhenTlsKeyed({ a: { host: "h", port: 1, tls: TLS_B } })), true);
    assert.equal(await isSecret(secretWhenTlsKeyed({ a: { host: "h", port: 1, tls: TLS_VIP } })), false);
});
