# How a system or fault test script (bash) ends; sourced, not run.
#
# The script keeps its work in the temporary directory $W and names it in
# every kith and kithd command line it runs (--home "$W/..."), counts its
# checks with ok and not_ok, defines cleanup (stop what it started, by
# pid, and reap it), sets its EXIT trap to `finish NAME` and ends with
# END=1.  At exit, on success, on a failure or on a signal, finish then:
#  - counts a failure if the script stopped before its end;
#  - stops what the script knows it started (cleanup);
#  - checks that no process whose command line names $W is still alive:
#    any left after 2 s is named, killed and counted as a failed check;
#  - removes $W (unless KEEP is set);
#  - prints the last line, "NAME: N passed, M failed", and exits 0 only
#    if nothing failed.

# reap PID...: wait for these children, and for no other (a bare `wait`
# would hang on a child that never ends, and finish would never report it).
reap() {
	local p
	for p in "$@"; do wait "$p" 2>/dev/null; done
	return 0
}

# leftovers DIR: print "PID COMMAND" of each process whose command line
# names DIR, once none is left or after 2 s.
leftovers() {
	local end=$((SECONDS + 2)) left
	while left=$(pgrep -af -- "$1") && [ $SECONDS -lt $end ]; do
		sleep 0.05
	done
	[ -n "$left" ] && printf '%s\n' "$left"
	return 0
}

finish() {
	local rc=$? name=$1 left pids p end
	trap - EXIT
	[ -n "${END:-}" ] || not_ok "the script ran to its end (it stopped with status $rc)"
	cleanup
	left=$(leftovers "$W")
	if [ -z "$left" ]; then
		ok "no process left behind"
	else
		not_ok "no process left behind: $(printf '%s' "$left" | tr '\n' ';')"
		pids=$(printf '%s\n' "$left" | awk '{print $1}')
		for p in $pids; do kill -9 "$p" 2>/dev/null; done
		reap $pids	# those that are the script's own children
		end=$((SECONDS + 5))
		while pgrep -f -- "$W" >/dev/null && [ $SECONDS -lt $end ]; do
			sleep 0.05
		done
	fi
	[ -n "${KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"
	echo "$name: $pass passed, $failn failed"
	[ "$failn" -eq 0 ] && exit 0
	exit 1
}

# A signal ends the script through its EXIT trap, with the usual status.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
