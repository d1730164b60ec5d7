/** The sandbox's shapes: options, ports and the running Sandbox (sandbox/index.ts starts one). */
import type { MariadbInstance } from "./mariadb";
import type { Proc } from "./proc";
import type { TlsPems } from "./tls";
import type { DmMember } from "./dmCluster";

/** Ports of a sandbox; each one not given is a free port. */
export interface SandboxPorts {
    /** dm-master's `master-addr` (gRPC for dmctl and the OpenAPI). */
    dmMaster?: number;
    /** dm-master's embedded etcd peer URL. */
    dmMasterPeer?: number;
    /** dm-worker's `worker-addr`. */
    dmWorker?: number;
    /** The HAProxy frontend DM reads through. */
    vip?: number;
    /** HAProxy's runtime API over TCP (it also listens on a Unix socket in the sandbox dir). */
    haproxyStats?: number;
    /** MariaDB ports; a free one is retried by sandbox/mariadb.ts when another process takes it first. */
    primary?: number;
    replica?: number;
    downstream?: number;
}

/** The fixed ports of `npm run sandbox:up`, so a stack file can point at a long-lived sandbox. */
export const DEFAULT_PORTS: Required<SandboxPorts> = {
    dmMaster: 18261,
    dmMasterPeer: 18291,
    dmWorker: 18262,
    vip: 13306,
    haproxyStats: 13380,
    primary: 13307,
    replica: 13308,
    downstream: 13309,
};

/** How startSandbox builds the sandbox; every field is optional. */
export interface SandboxOptions {
    /**
     * The upstream servers: MariaDB 10.11 (Debian's) or MySQL ≥ 8.4 (unpacked by `npm run setup`, GTID
     * replica with SOURCE_AUTO_POSITION=1); MySQL is read by DM from the toolchain's dm-2409e0b
     * (tools/env.ts dmMysqlBinDir) unless DM_BIN_DIR is set. The downstream is MariaDB either way. @default "mariadb"
     */
    flavor?: "mariadb" | "mysql";
    /**
     * DM's target: MariaDB 10.11, or TiDB (tidb-server from the toolchain, `-store unistore`: in memory, not
     * restartable), DM's own downstream and the one its full mode (dump + load) works into. @default "mariadb"
     */
    downstream?: "mariadb" | "tidb";
    /**
     * dm-masters: one, or a cluster of several over one embedded etcd (every member in `initial-cluster`;
     * sandbox/dmCluster.ts), each on loopback with its own folder and free ports beyond the first. @default 1
     */
    masters?: number;
    /** dm-workers joining every master; the source is bound to worker1, the others stay free for DM to re-bind it. @default 1 */
    workers?: number;
    /** Incremental tasks on the source, each replicating its own schema `sbtest_<i>`. @default 2 */
    tasks?: number;
    /** Enable relay log on the source. @default false */
    relay?: boolean;
    /**
     * DM's configuration file to create the source from (`SourceConfig.baseFile`: the sandbox's own fields
     * are overlaid, the rest — case-sensitive, filters, from.session, … — is kept). @default undefined
     */
    sourceFile?: string;
    /** Where everything lives; kept by stop(). @default a new temporary folder, removed by stop() */
    dir?: string;
    /** Create the DM source (bound through the VIP). @default true */
    createSource?: boolean;
    /** Start the tasks (needs the source); their files are written either way. @default true */
    createTasks?: boolean;
    /** The syncers' `checkpoint-flush-interval` in seconds (DM's default is 30). @default 1 */
    checkpointFlushIntervalSec?: number;
    /** The tasks' `ignore-checking-items`; see sandbox/taskFile.ts for why each is there. @default IGNORED_CHECKS */
    ignoreChecks?: string[];
    /**
     * The replica's `gtid_domain_id`. With 0 (one domain, as most MariaDB replication sets run), writes on
     * the replica after a switch put a second server into domain 0 of DM's GTID set ("0-1-654,0-2-717"),
     * which MariaDB refuses when DM reconnects (ERROR 1943, fixed in go-mysql#1122, not in this DM);
     * another domain keeps one server per domain. @default 0
     */
    replicaGtidDomainId?: number;
    /** Leave every process running when this Node process exits (sandbox:up). @default false */
    persistent?: boolean;
    /** Progress lines with timings. @default no output */
    log?: (line: string) => void;
    /** Fixed ports for a long-lived sandbox. @default free ports */
    ports?: SandboxPorts;
    /**
     * Run dm-master and dm-worker with TLS (`ssl-ca`, `ssl-cert`, `ssl-key`; certificates from
     * sandbox/tls.ts in `<dir>/tls`): the OpenAPI is then HTTPS and every client needs `dm.tls`.
     * Not recorded in sandbox.json (openSandbox does not attach to a TLS sandbox). @default false
     */
    tls?: boolean;
    /**
     * Serve TLS on the replication set's MariaDB servers (primary and replica: `ssl-ca`, `ssl-cert`,
     * `ssl-key`, a certificate for 127.0.0.1 and localhost from sandbox/tls.ts); clients, DM included, may
     * still connect without it. MariaDB flavour only. @default false
     */
    mysqlTls?: boolean;
}

/** A running sandbox. */
export interface Sandbox {
    /** Logs, data, configuration, the 0600 task files and `sandbox.json`. */
    dir: string;
    /** server_id 1: binlog ROW, GTID, log_slave_updates, gtid_strict_mode; the VIP points here at start. */
    primary: MariadbInstance;
    /** server_id 2, replicating from the primary with MASTER_USE_GTID=slave_pos; declared in HAProxy, disabled. */
    replica: MariadbInstance;
    /** server_id 3: DM's target, written only by DM. */
    downstream: MariadbInstance;
    /** The all-privileges account on every instance (also the downstream user in the task files). */
    admin: { user: string; password: string };
    /** The HAProxy frontend DM's source reads through, and how to move it (components/vipBackends/haproxy.ts). */
    vip: {
        host: string;
        port: number;
        /** HAProxy's runtime API, Unix socket. */
        haproxySocket: string;
        /** HAProxy's runtime API over TCP, `127.0.0.1:<port>`. */
        haproxyAdminAddr: string;
        backend: string;
        /** Instance name → HAProxy server name. */
        servers: { primary: string; replica: string };
    };
    /** dm-master (OpenAPI on) and the one dm-worker; `master`/`worker` stop, kill and restart them. */
    dm: {
        masterAddr: string;
        openapiUrl: string;
        binDir: string;
        workerName: string;
        dmctlPath: string;
        master: Proc;
        worker: Proc;
        /** Every master's address, comma-separated: a stack's `dm.address` (masterAddr when there is one master). */
        address: string;
        /** Every dm-master; masters[0] is `master`. Each one's proc stops, kills and starts it. */
        masters: DmMember[];
        /** Every dm-worker; workers[0] is `worker`, the one the source is bound to at start. */
        workers: DmMember[];
        /** The master the cluster names its leader now (`GET /api/v1/cluster/masters`); undefined while none is. */
        leader(): Promise<DmMember | undefined>;
        /** With options.tls: the CA and a client certificate and key (PEM contents) DM accepts. @default undefined */
        tls?: TlsPems;
    };
    /** With options.mysqlTls: the CA that signed primary's and replica's certificates (and a client certificate). @default undefined */
    mysqlTls?: TlsPems;
    /** The HAProxy process (graceful stop keeps the VIP's target; kill returns it to the primary). */
    haproxy: Proc;
    /** The DM source (bound through the VIP) and its account (on primary and replica). */
    source: { id: string; user: string; password: string; flavor: "mariadb" | "mysql" };
    /** Incremental tasks `sandbox_task_<i>`, each replicating schema `sbtest_<i>`; taskFile is a 0600 YAML file. */
    tasks: { name: string; schema: string; taskFile: string }[];
    /** Every port the sandbox listens on. */
    ports: Required<SandboxPorts>;
    /** How long startSandbox took. */
    startupMs: number;
    /** Which instance the VIP points at now, read from HAProxy. */
    vipTarget(): Promise<"primary" | "replica" | undefined>;
    /** Everything down, no process or port left; dir removed unless options.dir was given. Idempotent. */
    stop(): Promise<void>;
}

/** The DM source id (bound through the VIP). */
export const SOURCE_ID = "sandbox-source";
/** The source account on primary and replica (grants: sandbox/taskFile.ts SOURCE_GRANTS). */
export const SOURCE_USER = "dm_source";
/** The one dm-worker's name. */
export const WORKER_NAME = "worker1";
