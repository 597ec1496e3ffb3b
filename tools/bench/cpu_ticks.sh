# shellcheck shell=bash
# cpu_ticks.sh: CPU time read from /proc in clock ticks (1/CLK_TCK s), for
# the guest benchmarks that split a run's CPU by process (connect.sh,
# connect_ab.sh). Sourced; each reading is bash builtins only, so that it
# costs no process of its own under TCG.

# Ticks per second, read once when sourced (for the scripts that source it).
# shellcheck disable=SC2034
CLK_TCK=$(getconf CLK_TCK)

# proc_ticks PID: its utime + stime; 0 when it is gone.
proc_ticks() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
  stat=${stat##*) }
  # shellcheck disable=SC2086  # the fields, word-split on purpose
  set -- $stat
  echo $(( ${12} + ${13} ))
}

# busy_ticks: the machine's busy time (user, nice, system, irq, softirq,
# steal: every CPU).
busy_ticks() {
  local _ u n s i w q sq st
  read -r _ u n s i w q sq st _ </proc/stat
  echo $(( u + n + s + q + sq + st ))
}
