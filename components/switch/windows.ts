/**
 * The pauses of one dm-master, one at a time in this process. dm-master passes every request to a
 * dm-worker through one token bucket (`rpc-rate-limit` 10 a second after a burst of `rpc-rate-burst` 40,
 * shared by every client), and each pause needs several such requests (pause-task, the reads until Paused,
 * check-rule's read, resume-task, the reads until Running). Twenty sources pausing at once in one
 * `pulumi up` (Pulumi runs their resources in parallel, in one provider process) would share the bucket,
 * and every pause would last as long as the bucket makes the slowest wait; one at a time, each finds the
 * tokens the previous one left. A switch waits for its window before its first pause, so waiting never
 * lengthens a pause. The window ends with the switch, its confirmation that the tasks read from the new
 * server included: those reads would otherwise draw from the bucket while the next switch is paused
 * (bench:sources, 20 sources: paused per source median 903 ms with the window ending at Running, 499 ms so).
 */

/** The last window entered, per dm-master address: the next one starts when it ends. */
const tails = new Map<string, Promise<void>>();

/** An entered window: `leave()` ends it (again is harmless); `waitedMs`: how long another window held it up (0: none open). */
export interface SwitchWindow {
    leave(): void;
    waitedMs: number;
}

/** Waits until the windows of `dmAddress` entered before this one have ended, and enters. */
export async function enterWindow(dmAddress: string): Promise<SwitchWindow> {
    const start = Date.now();
    const open = tails.get(dmAddress);
    const before = open ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    tails.set(dmAddress, tail);
    await before;
    let left = false;
    return {
        waitedMs: open === undefined ? 0 : Date.now() - start,
        leave: () => {
            if (left) return;
            left = true;
            release();
            if (tails.get(dmAddress) === tail) tails.delete(dmAddress);
        },
    };
}
