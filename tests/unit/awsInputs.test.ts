/** Pure validation of the Route53 and ENI VIP backends' inputs. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { awsVipBackend } from "../../components/vipBackends/aws";
import {
    checkEniInputs,
    checkRoute53Inputs,
    checkRoute53Mapping,
    EniBackendInputs,
    isInZone,
    Route53BackendInputs,
    route53RecordType,
} from "../../components/vipBackends/awsInputs";

const r53: Route53BackendInputs = {
    kind: "route53",
    zoneId: "Z0123456789ABCDEFGHIJ",
    recordName: "mysql.db.internal",
    values: { "mysql-a": "10.0.1.10", "mysql-b": "10.0.1.11" },
};
const eni: EniBackendInputs = {
    kind: "eni",
    privateIp: "10.0.1.100",
    enis: { "mysql-a": "eni-0123456789abcdef0", "mysql-b": "eni-0fedcba9876543210" },
};

const route53Cases: { name: string; b: Partial<Route53BackendInputs>; failures: [string, string][] }[] = [
    { name: "accepts addresses (A) with the defaults", b: {}, failures: [] },
    {
        name: "accepts host names (CNAME), a /hostedzone/ prefix, a trailing dot, region and endpoint",
        b: {
            zoneId: "/hostedzone/Z01",
            recordName: "mysql.db.internal.",
            values: { "mysql-a": "a.db.internal", "mysql-b": "B.db.internal." },
            region: "eu-west-1",
            endpoint: "http://127.0.0.1:5000",
        },
        failures: [],
    },
    {
        name: "rejects a zone id that is not one",
        b: { zoneId: "db.internal" },
        failures: [
            [
                "backend.zoneId",
                'backend.zoneId must be a Route53 hosted zone id such as "Z0123456789ABCDEFGHIJ" (aws route53 list-hosted-zones), got "db.internal"',
            ],
        ],
    },
    {
        name: "rejects a record name that is not a DNS name",
        b: { recordName: "mysql vip" },
        failures: [
            [
                "backend.recordName",
                'backend.recordName must be the record\'s fully qualified name inside the zone, such as "mysql.db.internal", got "mysql vip"',
            ],
        ],
    },
    {
        name: "rejects a record type other than A or CNAME",
        b: { recordType: "AAAA" as "A" },
        failures: [
            [
                "backend.recordType",
                'backend.recordType must be "A" (values are IPv4 addresses) or "CNAME" (values are host names), got "AAAA"',
            ],
        ],
    },
    {
        name: "rejects a host name in an A record",
        b: { recordType: "A", values: { "mysql-a": "10.0.1.10", "mysql-b": "b.db.internal" } },
        failures: [
            [
                "backend.values.mysql-b",
                'backend.values.mysql-b must be an IPv4 address (the record type is A), got "b.db.internal"',
            ],
        ],
    },
    {
        name: "rejects an address in a CNAME record",
        b: { recordType: "CNAME", values: { "mysql-a": "a.db.internal", "mysql-b": "10.0.1.11" } },
        failures: [
            [
                "backend.values.mysql-b",
                'backend.values.mysql-b must be a host name (the record type is CNAME), got "10.0.1.11"',
            ],
        ],
    },
    {
        name: "rejects values that mix addresses and names without a type",
        b: { values: { "mysql-a": "10.0.1.10", "mysql-b": "b.db.internal" } },
        failures: [
            [
                "backend.values",
                "backend.values mixes IPv4 addresses and host names, but one record holds one type: use only addresses (A) or only host names (CNAME)",
            ],
        ],
    },
    {
        name: "rejects two instances with one value",
        b: { values: { "mysql-a": "10.0.1.10", "mysql-b": "10.0.1.10" } },
        failures: [
            [
                "backend.values",
                'backend.values: instances mysql-a and mysql-b share "10.0.1.10", so dm-switch could not tell which one the VIP points at; give each instance its own',
            ],
        ],
    },
    {
        name: "rejects no values",
        b: { values: {} },
        failures: [
            [
                "backend.values",
                'backend.values must map each instance name to its record value, such as {"mysql-a": "10.0.1.10"}',
            ],
        ],
    },
    {
        name: "rejects a TTL a move could not wait out",
        b: { ttl: 3600 },
        failures: [
            [
                "backend.ttl",
                "backend.ttl must be a whole number of seconds from 0 to 300 (a move waits the TTL out with DM's tasks paused), got 3600",
            ],
        ],
    },
    {
        name: "rejects a bad region, endpoint and timeout",
        b: { region: "Europe", endpoint: "moto:5000", timeoutMs: 0 },
        failures: [
            ["backend.region", 'backend.region must be an AWS region such as "eu-west-1", got "Europe"'],
            [
                "backend.endpoint",
                'backend.endpoint must be an http(s) URL such as "https://ec2.eu-west-1.amazonaws.com", got "moto:5000"; leave it out for AWS\'s own endpoint',
            ],
            ["backend.timeoutMs", "backend.timeoutMs must be a whole number of milliseconds above 0, got 0"],
        ],
    },
];

for (const c of route53Cases) {
    test(`route53: ${c.name}`, () => {
        const got = checkRoute53Inputs({ ...r53, ...c.b } as Route53BackendInputs);
        assert.deepEqual(
            got.map((f) => [f.property, f.reason]),
            c.failures,
        );
    });
}

const eniCases: { name: string; b: Partial<EniBackendInputs>; failures: [string, string][] }[] = [
    { name: "accepts an IP and one ENI per instance", b: {}, failures: [] },
    {
        name: "rejects an IP that is not IPv4",
        b: { privateIp: "10.0.1.300" },
        failures: [
            [
                "backend.privateIp",
                'backend.privateIp must be the VIP\'s private IPv4 address, such as "10.0.1.100", got "10.0.1.300"',
            ],
        ],
    },
    {
        name: "rejects an ENI id that is not one",
        b: { enis: { "mysql-a": "eni-0123456789abcdef0", "mysql-b": "i-0123456789abcdef0" } },
        failures: [
            [
                "backend.enis.mysql-b",
                'backend.enis.mysql-b must be an ENI id such as "eni-0123456789abcdef0", got "i-0123456789abcdef0"',
            ],
        ],
    },
    {
        name: "rejects two instances on one ENI",
        b: { enis: { "mysql-a": "eni-0123456789abcdef0", "mysql-b": "eni-0123456789abcdef0" } },
        failures: [
            [
                "backend.enis",
                'backend.enis: instances mysql-a and mysql-b share "eni-0123456789abcdef0", so dm-switch could not tell which one the VIP points at; give each instance its own',
            ],
        ],
    },
    {
        name: "names the path it is given",
        b: { enis: {} },
        failures: [
            [
                "vip.backend.enis",
                'vip.backend.enis must map each instance name to its host\'s ENI id, such as {"mysql-a": "eni-0123456789abcdef0"}',
            ],
        ],
    },
];

for (const c of eniCases) {
    test(`eni: ${c.name}`, () => {
        const path = c.name === "names the path it is given" ? "vip.backend" : "backend";
        const got = checkEniInputs({ ...eni, ...c.b } as EniBackendInputs, path);
        assert.deepEqual(
            got.map((f) => [f.property, f.reason]),
            c.failures,
        );
    });
}

test("trustMapping must be a boolean (route53 and eni)", () => {
    assert.deepEqual(checkRoute53Inputs({ ...r53, trustMapping: "yes" as unknown as boolean }), [
        { property: "backend.trustMapping", reason: 'backend.trustMapping must be true or false, got "yes"' },
    ]);
    assert.deepEqual(checkEniInputs({ ...eni, trustMapping: 1 as unknown as boolean }), [
        { property: "backend.trustMapping", reason: "backend.trustMapping must be true or false, got 1" },
    ]);
});

test("checkRoute53Mapping: each value must be its instance's own address (A: the IPv4 host, CNAME: the host name)", () => {
    assert.deepEqual(checkRoute53Mapping(r53, { "mysql-a": "10.0.1.10", "mysql-b": "10.0.1.11" }), []);
    const cname = { ...r53, values: { "mysql-a": "a.db.internal", "mysql-b": "B.db.internal." } };
    assert.deepEqual(checkRoute53Mapping(cname, { "mysql-a": "a.db.internal", "mysql-b": "b.db.internal" }), []);
    // Swapped values: both refused.
    const swapped = checkRoute53Mapping(r53, { "mysql-a": "10.0.1.11", "mysql-b": "10.0.1.10" });
    assert.deepEqual(
        swapped.map((f) => f.property),
        ["backend.values.mysql-a", "backend.values.mysql-b"],
    );
    // An A value cannot be compared with a host name: refused, not assumed.
    const [named] = checkRoute53Mapping(r53, { "mysql-a": "a.db.internal", "mysql-b": "10.0.1.11" });
    assert.equal(named.property, "backend.values.mysql-a");
    assert.match(
        named.reason,
        /^backend\.values\.mysql-a is "10\.0\.1\.10" but instances\.mysql-a is at "a\.db\.internal": with verify "backend" nothing connects through the VIP/,
    );
});

test("infers the record type from the values", () => {
    assert.equal(route53RecordType({ values: { a: "10.0.0.1", b: "10.0.0.2" } }), "A");
    assert.equal(route53RecordType({ values: { a: "a.example.com", b: "b.example.com" } }), "CNAME");
    assert.equal(route53RecordType({ values: { a: "10.0.0.1", b: "b.example.com" } }), undefined);
    assert.equal(route53RecordType({ recordType: "CNAME", values: { a: "10.0.0.1" } }), "CNAME");
});

test("tells names inside a zone from names outside it", () => {
    assert.equal(isInZone("mysql.db.internal", "db.internal."), true);
    assert.equal(isInZone("DB.internal.", "db.internal"), true);
    assert.equal(isInZone("mysql.otherdb.internal", "db.internal"), false);
    assert.equal(isInZone("db.internal.example", "db.internal"), false);
});

test("awsVipBackend refuses a kind that is not an AWS backend", () => {
    assert.throws(() => awsVipBackend({ kind: "haproxy" } as unknown as EniBackendInputs), {
        name: "TypeError",
        message: 'backend.kind must be "route53" or "eni" for an AWS VIP, got "haproxy"',
    });
});

test("a backend built from inputs its check rejects throws every reason at once", () => {
    assert.throws(() => awsVipBackend({ ...eni, privateIp: "vip", enis: { "mysql-a": "eni-1" } }), {
        name: "TypeError",
        message:
            'backend.privateIp must be the VIP\'s private IPv4 address, such as "10.0.1.100", got "vip"; ' +
            'backend.enis.mysql-a must be an ENI id such as "eni-0123456789abcdef0", got "eni-1"',
    });
});

test("a bounded AWS wait gives up with an AwsWaitTimeoutError naming what it awaited and what it last saw", async () => {
    const { AwsWaitTimeoutError, pollUntil } = await import("../../components/vipBackends/aws");
    let reads = 0;
    const what = { description: "Route53 A record x.db.internal", awaited: "change C1 INSYNC", show: (s: string) => s };
    const read = async () => (++reads < 3 ? "PENDING" : "INSYNC");
    assert.equal(await pollUntil(what, read, (s) => s === "INSYNC", { intervalMs: 1, timeoutMs: 1000 }), "INSYNC");
    assert.equal(reads, 3);
    await assert.rejects(
        pollUntil(
            what,
            async () => "PENDING",
            (s) => s === "INSYNC",
            { intervalMs: 5, timeoutMs: 20 },
        ),
        (err: unknown) => {
            assert.ok(err instanceof AwsWaitTimeoutError);
            assert.equal(err.awaited, "change C1 INSYNC");
            assert.equal(
                err.message,
                "Route53 A record x.db.internal: change C1 INSYNC: not within 20 ms; last seen: PENDING. " +
                    "Check the AWS console or CLI, raise backend.timeoutMs if AWS is slow, then retry.",
            );
            return true;
        },
    );
});
