/**
 * The Node flags the runner process starts with: in the image's CMD (runner/Dockerfile, checked
 * against this list by a unit spec), in `jobfleet local` and in the benches. Sandboxes never get
 * them (they start with only their own flags).
 *
 * --max-semi-space-size=2: the runner forks a sandbox per task, and a fork costs the parent in
 * proportion to its resident memory (page tables copied, then a copy-on-write fault for each page
 * it touches until the child has exec'd). V8's default young generation (16 MiB semi-spaces)
 * keeps about 20 MB more resident than the runner's short-lived garbage needs. Measured on the
 * runner bench (800 no-op tasks, 8 slots, 2 CPUs): 13.5 -> 15.0 tasks/s, 96 -> 87 ms of CPU per
 * task, 108 -> 86 MB PSS for the runner and its sandboxes.
 */
export const RUNNER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
