/**
 * The vocabulary every layer shares: the upstream's flavor, DM's transport, a server's address, the DM
 * endpoint a stack names and the three timeouts a stack may set. Defined here once; the modules that
 * used to define them re-export these. No imports (not even types): the bottom of the layering
 * (docs/DEVELOPING.md, tests/unit/layering.test.ts), so any layer may use it.
 */

/** The two upstream families DM reads from; they differ in GTID format and in the SQL that reads it. */
export type Flavor = "mysql" | "mariadb";

/** How dm-switch talks to dm-master: its OpenAPI v1, or the dmctl binary. */
export type Transport = "openapi" | "dmctl";

/** Where a MySQL/MariaDB server listens. */
export interface Address {
    host: string;
    port: number;
}

/**
 * TLS of dm-switch's own connections to a MySQL/MariaDB server (probe, catch-up wait, VIP check). PEM
 * texts, not paths. The server's certificate is always verified: against `ca`, else the system CAs,
 * with the host name `servername` (else the address's host) checked against the certificate.
 */
export interface MysqlTlsInputs {
    /** The CA that signed the server's certificate. @default the system CAs */
    ca?: string;
    /** A client certificate, when the server requires one (`REQUIRE X509`); needs `key`. @default none */
    cert?: string;
    /** The client certificate's key: a secret (set it with `pulumi config set --secret`). @default none */
    key?: string;
    /** The name the server's certificate must hold. @default the address's host */
    servername?: string;
}

/** An instance's (or a VIP's) address as a stack gives it: where it listens, and how to reach it over TLS. */
export interface AddressInputs extends Address {
    /** Connect with TLS, verifying the server's certificate. @default no TLS */
    tls?: MysqlTlsInputs;
}

/** dm-master as a stack names it. */
export interface DmEndpointInputs {
    /**
     * dm-master's address, `host:port` (the OpenAPI is served on the same port), or every member of a
     * dm-master cluster comma-separated without spaces, as dmctl's `--master-addr`: `a:8261,b:8261,c:8261`.
     */
    address: string;
    /** @default "openapi" */
    transport?: Transport;
    /** PEM contents for a DM cluster with TLS; `key` is a secret. @default undefined (no TLS) */
    tls?: { ca?: string; cert?: string; key?: string };
    /** dmctl to use with the dmctl transport. @default "dmctl" on PATH */
    dmctlPath?: string;
}

/** How DM reads a source's upstream: the settings DM's configuration of a source and a SourceBinding share. */
export interface UpstreamSettings extends Address {
    /** The MySQL user DM replicates with. */
    user: string;
    /** A secret: never in an argument, an error text or state in plaintext. */
    password: string;
    flavor: Flavor;
    /** Must be true: DM can switch a source to another instance of the replication set only in GTID mode. */
    enableGtid: boolean;
    /** The source's relay log. @default false */
    enableRelay?: boolean;
}

/** The three timeouts a stack may set on a source; every resource and hook takes them unchanged. */
export interface SwitchTimeouts {
    /** How long a task may take to reach Paused or Running. @default 30000 */
    stageTimeoutMs?: number;
    /** How long to wait for a lagging target to catch up with gtid-S. @default 10000 */
    catchUpTimeoutMs?: number;
    /**
     * After the tasks run again: how long to wait for each syncer to show it reads from the target and for
     * relay (if enabled) to read from it; 0 skips the confirmation. DM flushes the checkpoint every
     * `checkpoint-flush-interval` (30 s by default), hence the default. @default 60000
     */
    advanceTimeoutMs?: number;
}

/** The defaults of the three timeouts (the executor's options add their own: components/switch/options.ts). */
export const TIMEOUT_DEFAULTS = {
    stageTimeoutMs: 30_000,
    catchUpTimeoutMs: 10_000,
    advanceTimeoutMs: 60_000,
} as const;

/** The names of the three timeouts, in the order messages list them. */
export const TIMEOUT_KEYS = ["stageTimeoutMs", "catchUpTimeoutMs", "advanceTimeoutMs"] as const;
