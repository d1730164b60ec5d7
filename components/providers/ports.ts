/**
 * The live SwitchPorts moved beside the executor (../switch/livePorts.ts); the preview's reads and the VIP
 * backend factory are ./preview.ts and ./vipBackend.ts. Kept so that existing imports keep working.
 */
export * from "../switch/livePorts";
export { liveTaskStages } from "./preview";
export { vipBackend } from "./vipBackend";
