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
import {
    cacheDir,
    motoVenv,
    MYSQL_MIN_VERSION,
    MysqlDist,
    mysqlDist,
    mysqlInstallDir,
    pulumiBin,
    sharedToolchainDir,
    toolchainInstallDir,
    VERSIONS,
} from "./env";

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
        throw new SetupError(
            `missing Debian packages ${names.join(", ")}: run 'sudo apt-get install -y ${names.join(" ")}'`,
        );
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
            throw new SetupError(
                `PULUMI_BIN=${bin} is ${have ?? "not runnable"}: dm-switch needs Pulumi ≥ ${VERSIONS.pulumi}`,
            );
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
            [
                "build",
                "-trimpath",
                "-tags",
                "osusergo,grpcnotrace",
                "-ldflags",
                ldflags,
                "-o",
                out,
                "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
            ],
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

/** The machine's own Debian mirror (from /etc/apt/sources.list.d/*.sources or sources.list). @default deb.debian.org */
function debianMirror(): string {
    const files = [
        "/etc/apt/sources.list",
        ...listDir("/etc/apt/sources.list.d").map((f) => path.join("/etc/apt/sources.list.d", f)),
    ];
    for (const f of files) {
        const text = fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
        const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
        if (uri && !/security/.test(uri)) {
            return uri;
        }
    }
    return "http://deb.debian.org/debian";
}

const listDir = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);

/**
 * MySQL (server and client) from Debian's unstable archive, unpacked into the cache: it cannot be installed
 * into Debian 12, but runs through its own unpacked loader (tools/env.ts mysqlDist). apt reads a private
 * sources list, package lists, cache and an empty status file in a temporary folder, so the machine's own
 * apt setup is not touched; the packages of the dependency closure whose files are libraries are unpacked
 * with dpkg-deb and the folder is moved into place only when complete.
 */
function mysqlServer(): string {
    const have = mysqlDist();
    if (have && mysqldVersion(have)) {
        return `MySQL ${have.version} cached at ${mysqlInstallDir()}`;
    }
    for (const cmd of ["apt-get", "apt-cache", "dpkg-deb"]) {
        if (!has(cmd)) {
            throw new SetupError(
                `${cmd} is missing: MySQL is unpacked from Debian packages, which needs apt and dpkg (Debian or Ubuntu)`,
            );
        }
    }
    fs.mkdirSync(cacheDir(), { recursive: true });
    const work = fs.mkdtempSync(path.join(cacheDir(), ".mysql-build-"));
    try {
        for (const d of ["lists/partial", "cache/archives/partial", "debs", "final/root"]) {
            fs.mkdirSync(path.join(work, d), { recursive: true });
        }
        fs.writeFileSync(path.join(work, "status"), "");
        const keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
        const signed = fs.existsSync(keyring) ? `[signed-by=${keyring}] ` : "";
        fs.writeFileSync(path.join(work, "sources.list"), `deb ${signed}${debianMirror()} sid main\n`);
        const opts = [
            `Dir::Etc::sourcelist=${path.join(work, "sources.list")}`,
            "Dir::Etc::sourceparts=-",
            `Dir::State::Lists=${path.join(work, "lists")}`,
            `Dir::State::status=${path.join(work, "status")}`,
            `Dir::Cache=${path.join(work, "cache")}`,
            // The private folders are root's: downloading as root's apt sandbox user (_apt) could not write them.
            "APT::Sandbox::User=root",
            "Debug::NoLocking=1",
        ].flatMap((o) => ["-o", o]);
        run("apt-get", [...opts, "update", "-qq"], { what: "reading Debian unstable's package lists" });
        const wanted = ["mysql-server-core", "mysql-client-core"];
        const version = run("apt-cache", [...opts, "show", "--no-all-versions", "mysql-server-core"], {
            what: "reading mysql-server-core's version",
        }).match(/^Version:\s*(\S+)/m)?.[1];
        if (!version || !versionAtLeast(version, MYSQL_MIN_VERSION)) {
            throw new SetupError(
                `Debian unstable offers mysql-server-core ${version ?? "in no version"}; dm-switch's MySQL sandbox needs ≥ ${MYSQL_MIN_VERSION}`,
            );
        }
        const depends = run(
            "apt-cache",
            [
                ...opts,
                "depends",
                "--recurse",
                "--no-recommends",
                "--no-suggests",
                "--no-conflicts",
                "--no-breaks",
                "--no-replaces",
                "--no-enhances",
                "--no-pre-depends",
                ...wanted,
            ],
            { what: "resolving MySQL's dependencies" },
        );
        const pkgs = [...new Set(depends.split("\n").filter((l) => /^(lib|zlib|mysql-)[^\s<>]*$/.test(l)))].sort();
        run("apt-get", [...opts, "download", "-qq", ...pkgs], {
            cwd: path.join(work, "debs"),
            what: "downloading MySQL's packages",
        });
        const root = path.join(work, "final", "root");
        for (const deb of fs.readdirSync(path.join(work, "debs")).filter((f) => f.endsWith(".deb"))) {
            run("dpkg-deb", ["-x", path.join(work, "debs", deb), root], { what: `unpacking ${deb}` });
        }
        // The loader is told every folder holding a shared library (lib*.so*; perl's and MySQL's plugins are
        // loaded by path, not searched): the unpacked ones come before the machine's.
        const libDirs = new Set<string>();
        const walk = (dir: string) => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isDirectory()) {
                    walk(p);
                } else if (/^(lib.*|ld-linux.*)\.so(\.|$)/.test(e.name)) {
                    libDirs.add(path.relative(root, dir));
                }
            }
        };
        walk(root);
        const dist = { version, packages: pkgs.length, libraryDirs: [...libDirs].sort() };
        fs.writeFileSync(path.join(work, "final", "dist.json"), `${JSON.stringify(dist, null, 2)}\n`);
        const dest = mysqlInstallDir();
        fs.rmSync(dest, { recursive: true, force: true });
        fs.renameSync(path.join(work, "final"), dest);
        const got = mysqlDist();
        if (!got || !mysqldVersion(got)) {
            throw new SetupError(
                `the unpacked MySQL in ${dest} does not run: try 'npm run setup' again, or remove ${dest}`,
            );
        }
        return `MySQL ${got.version} unpacked from Debian unstable (${pkgs.length} packages) into ${dest}`;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** `mysqld --version` through the unpacked loader, or undefined when it does not run. */
function mysqldVersion(dist: MysqlDist): string | undefined {
    const c = dist.command("mysqld", ["--version"]);
    const r = spawnSync(c.command, c.args, { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Compares a Debian version's leading `major.minor` with `wanted`. */
function versionAtLeast(version: string, wanted: string): boolean {
    const [a1, a2] = version.split(/[.-]/).map(Number);
    const [b1, b2] = wanted.split(".").map(Number);
    return a1 > b1 || (a1 === b1 && a2 >= b2);
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
    run(
        path.join(venv, "bin", "pip"),
        ["install", "-q", "--disable-pip-version-check", `moto[server]==${VERSIONS.moto}`],
        {
            what: "installing moto from PyPI",
        },
    );
    fs.writeFileSync(done, `${new Date().toISOString()}\n`);
    return `installed moto ${VERSIONS.moto} into ${venv}`;
}

async function main(): Promise<void> {
    if (os.platform() !== "linux" || os.arch() !== "x64") {
        throw new SetupError(`dm-switch's prebuilt tools are linux-amd64; this is ${os.platform()}-${os.arch()}`);
    }
    const steps: [string, () => string | Promise<string>][] = [
        ["debian packages", debianPackages],
        ["toolchain", toolchain],
        ["pulumi cli", pulumiCli],
        ["moto", moto],
        ["mysql", mysqlServer],
    ];
    // `npm run setup -- mysql` runs only the named steps.
    const only = process.argv.slice(2);
    const unknown = only.filter((n) => !steps.some(([name]) => name === n));
    if (unknown.length > 0) {
        throw new SetupError(
            `unknown step ${unknown.join(", ")}: the steps are ${steps.map(([n]) => `"${n}"`).join(", ")}`,
        );
    }
    for (const [name, fn] of steps.filter(([n]) => only.length === 0 || only.includes(n))) {
        await step(name, fn);
    }
}

main().catch((err: unknown) => {
    console.error(`setup: ${err instanceof SetupError ? err.message : String(err)}`);
    process.exit(1);
});
