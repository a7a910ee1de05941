/**
 * A target's process tree, read from `/proc`: the CPU time it used, and
 * stopping it while another target is measured (`load:compare`).
 *
 * @module
 */

/** Every live process's parent and CPU seconds (user + system). */
function processes(): { children: Map<number, number[]>; seconds: Map<number, number> } {
  const children = new Map<number, number[]>();
  const seconds = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // After the parenthesised command name: state, ppid, …; utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      children.set(ppid, [...children.get(ppid) ?? [], Number(entry.name)]);
      seconds.set(Number(entry.name), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // Gone since the listing.
    }
  }
  return { children, seconds };
}

/**
 * `pid` and its live descendants.
 *
 * @param pid The tree's root.
 * @returns Their process IDs, the root first.
 */
export function treePids(pid: number): number[] {
  return descendants(pid, processes().children);
}

/**
 * CPU seconds used so far by `pid` and every live descendant.
 *
 * @param pid The tree's root.
 * @returns User + system seconds.
 */
export function treeCpu(pid: number): number {
  const { children, seconds } = processes();
  return descendants(pid, children).reduce((total, p) => total + (seconds.get(p) ?? 0), 0);
}

function descendants(pid: number, children: Map<number, number[]>): number[] {
  const out: number[] = [];
  for (const queue = [pid]; queue.length > 0;) {
    const next = queue.pop()!;
    out.push(next);
    queue.push(...children.get(next) ?? []);
  }
  return out;
}

/**
 * Stops (`SIGSTOP`) or continues (`SIGCONT`) every process of a tree.
 *
 * @param pid The tree's root.
 * @param paused Stop (true) or continue (false).
 */
export function pauseTree(pid: number, paused: boolean): void {
  for (const p of treePids(pid)) {
    try {
      Deno.kill(p, paused ? "SIGSTOP" : "SIGCONT");
    } catch {
      // Gone meanwhile.
    }
  }
}
