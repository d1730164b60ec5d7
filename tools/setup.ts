/**
 * `npm run setup`: installs every tool the tests, the sandbox and the demo need, idempotently.
 *
 * Each step prints one line. Built tools go to a temporary folder first and are moved into the
 * cache only when complete, so a half-built tool never counts as installed. Run after `npm ci`
 * (which brings Node 22 and the npm packages).
 */
import { spawnSync, SpawnSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheDir, motoVenv, pulumiBin, sharedToolchainDir, toolchainInstallDir, VERSIONS } from "./env";

class SetupError extends Error {}

const DEBIAN_PACKAGES: { pkg: string; provides: string }[] = [
    { pkg: "mariadb-server", provides: "/usr/sbin/mariadbd" },
    { pkg: "mariadb-client", provides: "/usr/bin/mariadb" },
    { pkg: "haproxy", provides: "/usr/sbin/haproxy" },
    { pkg: "socat", provides: "/usr/bin/socat" },
    { pkg: "xz-utils", provides: "/usr/bin/xz" },
    // The DM-over-TLS tests make their CA and certificates with it.
    { pkg: "openssl", provides: "/usr/bin/openssl" },
    { pkg: "python3-venv", provides: "" },
    // The test that rebuilds the embedded WebAssembly GTID scanner from its C source (npm run build:wasm).
    { pkg: "clang", provides: "/usr/bin/clang" },
    { pkg: "lld", provides: "/usr/bin/wasm-ld" },
];

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { what: string }): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
    if (r.error) {
        throw new SetupError(`${opts.what}: cannot run ${cmd}: ${r.error.message}`);
    }
    if (r.status !== 0) {
        const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
        throw new SetupError(`${opts.what} failed (${cmd} exited ${r.status}):\n${out}`);
    }
    return String(r.stdout ?? "");
}

function has(cmd: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

async function step(name: string, fn: () => string | Promise<string>): Promise<void> {
    const start = Date.now();
    const detail = await fn();
    console.log(`setup: ${name}: ${detail} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
}

/** MariaDB, HAProxy, socat, xz, openssl, clang and lld from Debian; installed with apt-get when missing and running as root. */
function debianPackages(): string {
    const missing = DEBIAN_PACKAGES.filter(
        (p) => (p.provides && !fs.existsSync(p.provides)) || (p.pkg === "python3-venv" && !pythonHasVenv()),
    );
    if (missing.length === 0) {
        return "mariadb, haproxy, socat, xz, openssl, clang, lld present";
    }
    const names = missing.map((p) => p.pkg);
    if (process.getuid?.() !== 0) {
        throw new SetupError(`missing Debian packages ${names.join(", ")}: run 'sudo apt-get install -y ${names.join(" ")}'`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    run("apt-get", ["update", "-qq"], { what: "apt-get update", env });
    run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...names], { what: "apt-get install", env });
    // Debian's packages enable system services; the project starts its own instances on free ports.
    return `installed ${names.join(", ")}`;
}

function pythonHasVenv(): boolean {
    return spawnSync("python3", ["-c", "import ensurepip, venv"], { stdio: "ignore" }).status === 0;
}

/** DM (dm-master, dm-worker, dmctl), the Node language host and the command provider: prebuilt, checked by checksum. */
function toolchain(): string {
    const install = path.join(sharedToolchainDir(), "install");
    if (!fs.existsSync(install)) {
        throw new SetupError(
            `the prebuilt toolchain is missing at ${sharedToolchainDir()}: set DM_SWITCH_TOOLCHAIN to the folder holding 'install' and SHA256SUMS`,
        );
    }
    if (!has("xz")) {
        throw new SetupError("xz is missing: run 'apt-get install -y xz-utils'");
    }
    run("bash", [install, toolchainInstallDir()], { what: "unpacking the toolchain" });
    return `dm-master, dm-worker, dmctl, pulumi-language-nodejs, pulumi-resource-command in ${toolchainInstallDir()}`;
}

function pulumiVersion(bin: string): string | undefined {
    const r = spawnSync(bin, ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "1" } });
    return r.status === 0 ? r.stdout.trim() : undefined;
}

function atLeast(version: string, wanted: string): boolean {
    const a = version.replace(/^v/, "").split(/[.-]/).map(Number);
    const b = wanted.split(".").map(Number);
    for (let i = 0; i < 3; i++) {
        if ((a[i] ?? 0) !== b[i]) {
            return (a[i] ?? 0) > b[i];
        }
    }
    return true;
}

/**
 * The Pulumi CLI v3.259.0, built from the Go module proxy: a wrapper module requiring pkg/v3 and sdk/v3
 * at that version, with pkg's one non-local replace copied (its go.mod has local replaces we drop).
 */
function pulumiCli(): string {
    const bin = pulumiBin();
    const have = fs.existsSync(bin) ? pulumiVersion(bin) : undefined;
    if (process.env.PULUMI_BIN) {
        if (!have || !atLeast(have, VERSIONS.pulumi)) {
            throw new SetupError(`PULUMI_BIN=${bin} is ${have ?? "not runnable"}: dm-switch needs Pulumi ≥ ${VERSIONS.pulumi}`);
        }
        return `using ${bin} (${have})`;
    }
    if (have === `v${VERSIONS.pulumi}`) {
        return `${have} cached at ${bin}`;
    }
    if (!has("go")) {
        throw new SetupError(
            `the Go toolchain is missing: install Go ≥ 1.24 to build the Pulumi CLI v${VERSIONS.pulumi}, or set PULUMI_BIN to a pulumi ≥ ${VERSIONS.pulumi}`,
        );
    }
    fs.mkdirSync(cacheDir(), { recursive: true });
    const work = fs.mkdtempSync(path.join(cacheDir(), ".pulumi-build-"));
    try {
        const v = `v${VERSIONS.pulumi}`;
        fs.writeFileSync(
            path.join(work, "go.mod"),
            [
                "module dmswitch.local/pulumicli",
                "",
                "go 1.24",
                "",
                `require (\n\tgithub.com/pulumi/pulumi/pkg/v3 ${v}\n\tgithub.com/pulumi/pulumi/sdk/v3 ${v}\n)`,
                "",
                "replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e",
                "",
            ].join("\n"),
        );
        fs.writeFileSync(
            path.join(work, "tools.go"),
            '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n',
        );
        const env = { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
        run("go", ["mod", "tidy"], { cwd: work, env, what: "downloading the Pulumi CLI's Go modules" });
        const ldflags = `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${v}`;
        const out = path.join(work, "out", "pulumi");
        run(
            "go",
            ["build", "-trimpath", "-tags", "osusergo,grpcnotrace", "-ldflags", ldflags, "-o", out, "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"],
            { cwd: work, env, what: "building the Pulumi CLI" },
        );
        const built = pulumiVersion(out);
        if (built !== v) {
            throw new SetupError(`the built Pulumi CLI reports ${built ?? "nothing"}, expected ${v}`);
        }
        const dest = path.dirname(bin);
        fs.rmSync(dest, { recursive: true, force: true });
        fs.mkdirSync(path.join(work, "final"));
        fs.renameSync(out, path.join(work, "final", "pulumi"));
        fs.renameSync(path.join(work, "final"), dest);
        return `built ${v} into ${bin}`;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** moto, the AWS API server the Route53/ENI tests run against, in its own virtual environment. */
function moto(): string {
    const venv = motoVenv();
    const done = path.join(venv, ".complete");
    if (fs.existsSync(done)) {
        return `moto ${VERSIONS.moto} cached at ${venv}`;
    }
    if (!has("python3")) {
        throw new SetupError("python3 is missing: install Python ≥ 3.9 for the moto AWS API server");
    }
    // A virtual environment cannot be moved once made: build it in place and mark it complete last.
    fs.rmSync(venv, { recursive: true, force: true });
    run("python3", ["-m", "venv", venv], { what: "creating moto's virtual environment" });
    run(path.join(venv, "bin", "pip"), ["install", "-q", "--disable-pip-version-check", `moto[server]==${VERSIONS.moto}`], {
        what: "installing moto from PyPI",
    });
    fs.writeFileSync(done, `${new Date().toISOString()}\n`);
    return `installed moto ${VERSIONS.moto} into ${venv}`;
}

async function main(): Promise<void> {
    if (os.platform() !== "linux" || os.arch() !== "x64") {
        throw new SetupError(`dm-switch's prebuilt tools are linux-amd64; this is ${os.platform()}-${os.arch()}`);
    }
    await step("debian packages", debianPackages);
    await step("toolchain", toolchain);
    await step("pulumi cli", pulumiCli);
    await step("moto", moto);
}

main().catch((err: unknown) => {
    console.error(`setup: ${err instanceof SetupError ? err.message : String(err)}`);
    process.exit(1);
});
