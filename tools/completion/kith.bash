# bash completion for kith(1) and kithd(8).  Installed as
# share/bash-completion/completions/kith and .../kithd.
# tests/cli/install checks the commands, subcommands and options here
# against `kith --help`, each command's --help, and what kith accepts.

_kith_commands="init id network invite join member quarantine request volunteer referral
session insight report show share erase find history conflicts resolve verify repair restore digest stats
export export-records import-records compact scrub upgrade sync tail peers
status doctor clock"

# _kith_subcommands CMD: the subcommands of CMD, if it has any.
_kith_subcommands() {
	case $1 in
	network) echo charter ;;
	member) echo add admit revoke list ;;
	request) echo add update claim fulfil cancel unclaim reopen list show ;;
	volunteer) echo add update list show ;;
	referral) echo send accept decline complete list ;;
	session) echo add list show ;;
	insight) echo add respond list show ;;
	clock) echo reset ;;
	esac
}

_kith_request_fields="--category --area --urgency --needed-by --lang
--access-needs --name --phone --address --notes"
_kith_volunteer_fields="--name --area --skills --lang --availability --dbs
--dbs-checked --active"

# _kith_options CMD SUB: the options of CMD (SUB, or empty).
_kith_options() {
	case $1:$2 in
	init:) echo --name --network-name --join ;;
	member:add) echo --org --role ;;
	member:list | quarantine: | show: | history: | conflicts: | stats: | \
	status: | doctor: | clock: | request:show | volunteer:show | \
	session:list | session:show | insight:show)
		echo --json ;;
	request:add | request:update)
		echo $_kith_request_fields --retain-until ;;
	request:claim) echo --volunteer ;;
	request:list) echo --status --area --category --json --sort --limit ;;
	volunteer:add | volunteer:update) echo $_kith_volunteer_fields ;;
	volunteer:list) echo --area --json --sort --limit ;;
	referral:send)
		echo --to --category --reason --consent --consent-recorded-by \
		    --snomed --name --dob --phone --nhs-number --retain-until ;;
	referral:complete) echo --outcome ;;
	referral:decline) echo --reason ;;
	referral:list) echo --to-me --from-me --status --json --sort --limit ;;
	session:add)
		echo --group --date --area --community --lang --reached \
		    --in-depth --format --notes --lead --to ;;
	insight:add)
		echo --session --service --theme --summary --quote --sentiment ;;
	insight:respond) echo --action --status --why ;;
	insight:list) echo --open --theme --json ;;
	report:) echo --from --to --by --format ;;
	share:) echo --with ;;
	invite:) echo --org --role --peer --days ;;
	find:) echo --kind --limit --json ;;
	erase:) echo --reason ;;
	resolve:)
		echo $_kith_request_fields --volunteer --status \
		    --skills --availability --dbs --dbs-checked --active ;;
	verify:) echo --pages ;;
	repair:) echo --peer ;;
	restore:) echo --peer --charter ;;
	export:) echo --format --kind --include-personal --since --output --bom \
	    --no-bom ;;
	upgrade:) echo --dry-run ;;
	tail:) echo --kind --json --count --format ;;
	esac
}

# _kith_values CMD OPTION: the values OPTION takes, "@file", "@dir", or
# nothing (free text).
_kith_values() {
	case $1:$2 in
	*:--home) echo @dir ;;
	*:--join | *:--charter) echo @file ;;
	invite:--role | member:--role) echo admin member pcn observer ;;
	request:--category | resolve:--category)
		echo food prescription check-in befriending transport advice \
		    other ;;
	request:--status | resolve:--status)
		echo open claimed fulfilled cancelled ;;
	request:--urgency | resolve:--urgency) echo 1 2 3 ;;
	referral:--status) echo sent accepted declined completed ;;
	referral:--consent) echo explicit care support-body ;;
	session:--format) echo stall meeting focus-group event one-to-one ;;
	insight:--status) echo planned done not-possible ;;
	report:--by) echo community area group month ;;
	report:--format) echo table csv json html ;;
	volunteer:--active) echo yes no ;;
	volunteer:--dbs | resolve:--dbs) echo none basic standard enhanced ;;
	export:--format) echo ndjson csv fhir ;;
	find:--kind) echo request volunteer referral ;;
	export:--kind) echo request volunteer referral ;;
	tail:--format) echo fhir ;;
	tail:--kind) echo request volunteer referral member charter erase ;;
	esac
}

# Options that take no value.
_kith_flags=" --json --pages --include-personal --dry-run --to-me --from-me
--open --help --version "

_kith() {
	local cur prev cmd="" sub="" subs i w vals
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	[ "$prev" == = ] && [ "$COMP_CWORD" -gt 1 ] &&
	    prev=${COMP_WORDS[COMP_CWORD - 2]}
	[ "$cur" == = ] && cur=
	COMPREPLY=()

	# The command and subcommand: the first words that are not options
	# or option values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--*=*) continue ;;
		--*)
			# readline splits --opt=value into --opt, =, value.
			if [ "${COMP_WORDS[i + 1]-}" == = ]; then ((i += 2))
			elif [[ $_kith_flags != *" $w "* ]]; then ((i++)); fi
			continue ;;
		esac
		if [ -z "$cmd" ]; then
			cmd=$w
			subs=$(_kith_subcommands "$cmd")
		elif [ -n "$subs" ] && [ -z "$sub" ]; then
			sub=$w
		fi
	done

	if [[ $prev == --* && $_kith_flags != *" $prev "* && $cur != --* ]]; then
		vals=$(_kith_values "$cmd" "$prev")
		case $vals in
		@dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
		@file) COMPREPLY=($(compgen -f -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "$vals" -- "$cur")) ;;
		esac
		return 0
	fi
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--home --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_kith_commands" -- "$cur"))
		fi
		return 0
	fi
	if [ -n "$subs" ] && [ -z "$sub" ] && [[ $cur != -* ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
		return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_kith_options "$cmd" "$sub") --help" \
		    -- "$cur"))
		return 0
	fi
	case $cmd in
	export-records | import-records | compact)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
	return 0
}

_kithd() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	--home) COMPREPLY=($(compgen -d -- "$cur")) ; return 0 ;;
	--listen | --feed | --peer) return 0 ;;
	--log-level)
		COMPREPLY=($(compgen -W "debug info warn error" -- "$cur"))
		return 0 ;;
	esac
	COMPREPLY=($(compgen -W "--home --listen --feed --peer --log-level --help --version" \
	    -- "$cur"))
	return 0
}

complete -o filenames -F _kith kith
complete -o filenames -F _kithd kithd
