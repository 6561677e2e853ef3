"""How long aim_sim's calls take, for python/README.md "Speed": run it with each installed
version of the package (the previous one in another virtual environment) in one go, so the
figures share the machine's load. Timings only, no asserts; the README shows one run.

    python python/bench/speed.py [--cli target/release/aim-sim] [--repeat 3]

Each figure is the fastest of --repeat runs: its wall time and the CPU time of this process
(all its threads; the CLI's: the child's) in that run. On a shared machine the CPU time is the
steadier figure. A call the installed version does not have prints "-".
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

#: The run the issue measured (python/README.md "Speed").
RUN = dict(frames=32, schedule="linear", gpu="h100")
#: A loop of this many runs, each with its own text length (a search over one option).
CALLS = 10_000
#: Calls per figure of one call (their mean).
SINGLE = 50
#: The sweep the command line is compared with: 100,000 configurations.
GRID = dict(frames="1:10000:1", text_tokens="100:109:1")
CLI_GRID = ["--frames", "1:10000:1", "--text-tokens", "100:109:1"]


def cpu_s(who=resource.RUSAGE_SELF):
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


def best(repeat, work):
    """(wall s, CPU s) of the fastest of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        cpu0, wall0 = cpu_s(), time.perf_counter()
        work()
        runs.append((time.perf_counter() - wall0, cpu_s() - cpu0))
    return min(runs)


def figure(wall_cpu, scale=1.0, unit="s"):
    wall, cpu = (x * scale for x in wall_cpu)
    factor = 1e3 if unit == "ms" else 1.0
    return f"{wall * factor:.3g} {unit} ({cpu * factor:.3g} {unit} CPU)"


def rows(aim_sim, repeat, cli, python=sys.executable):
    """(label, figure) for each measurement (`python`: the interpreter timed as a process)."""
    new = hasattr(aim_sim, "simulate_many")  # detail= and simulate_many came together
    specs = [dict(RUN, text_tokens=t) for t in range(1, CALLS + 1)]
    calls = range(SINGLE)
    full = best(repeat, lambda: [aim_sim.simulate(**RUN) for _ in calls])
    out = [(f"simulate(frames=32, schedule='linear', gpu='h100'), a call", figure(full, 1 / SINGLE, "ms"))]
    if new:
        totals = best(repeat, lambda: [aim_sim.simulate(detail="totals", **RUN) for _ in calls])
    out.append(("simulate(detail='totals', same run), a call", figure(totals, 1 / SINGLE, "ms") if new else "-"))
    # The previous version takes ~5 ms a call: it runs every 50th of the loop, scaled up.
    loop = specs if new else specs[::50]
    if new:
        run = best(repeat, lambda: [aim_sim.simulate(detail="totals", **s) for s in loop])
    else:
        run = best(repeat, lambda: [aim_sim.simulate(**s) for s in loop])
    out.append((f"{CALLS:,} calls in a loop, text_tokens 1..{CALLS:,} (totals where there)", figure(run, CALLS / len(loop))))
    many = best(repeat, lambda: aim_sim.simulate_many(specs)) if new else None
    out.append((f"simulate_many(the same {CALLS:,} runs)", figure(many) if new else "-"))
    out.append(("sweep(frames='1:10000:1', text_tokens='100:109:1'): 100,000 rows", figure(best(repeat, lambda: aim_sim.sweep(**GRID)))))
    script = f"import aim_sim; aim_sim.sweep(frames={GRID['frames']!r}, text_tokens={GRID['text_tokens']!r})"
    out.append(("python -c 'import aim_sim; aim_sim.sweep(same grid)' (a process)", figure(process(repeat, [python, "-c", script]))))
    if cli:
        command = [cli, "sweep", *CLI_GRID, "--format", "csv"]
        out.append(("aim-sim sweep, same grid, --format csv > /dev/null (a process)", figure(process(repeat, command))))
    return out


def process(repeat, command):
    """(wall s, CPU s) of the fastest of `repeat` runs of `command` as a process."""
    runs = []
    for _ in range(repeat):
        cpu0, wall0 = cpu_s(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        runs.append((time.perf_counter() - wall0, cpu_s(resource.RUSAGE_CHILDREN) - cpu0))
    return min(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", help="also time this aim-sim binary's sweep of the same grid")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the fastest counts")
    args = parser.parse_args()
    t0 = time.perf_counter()
    import pandas  # noqa: F401 (imported before timing: a notebook has it already)

    import_s = time.perf_counter() - t0
    import aim_sim

    print(f"aim_sim from {Path(aim_sim.__file__).parent} (Python {sys.version.split()[0]}; import pandas {import_s:.2f} s)")
    for label, shown in rows(aim_sim, args.repeat, args.cli):
        print(f"  {label:<72} {shown}")


if __name__ == "__main__":
    main()
