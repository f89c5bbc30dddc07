// The step callback every writer of a root takes: a leaf, so configure, mounts and restore share it without importing each other.

/** Called after each file-system step; tests kill the process here to prove restore works from any point. */
export type StepHook = (name: string) => void;
