package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// Shell completion: each shell's script asks the binary itself
// (`bucketgrant __complete WORD...`, the words typed so far, the last one
// being completed), so the scripts stay a few lines and the completions
// can never disagree with the flags the binary has. The answer is one
// candidate per line, or ":files" for "complete a file name here".

const completeFiles = ":files"

func completionCommand() *command {
	return &command{
		Command: &cli.Command{
			Name:  "completion",
			Usage: "print the shell completion script for bash, zsh or fish",
			Description: "Load it in the running shell, or install it where the shell looks for completions:\n" +
				"  bash: source <(bucketgrant completion bash)        (or save it in /etc/bash_completion.d/bucketgrant)\n" +
				"  zsh:  bucketgrant completion zsh > \"${fpath[1]}/_bucketgrant\"   (then start a new shell)\n" +
				"  fish: bucketgrant completion fish > ~/.config/fish/completions/bucketgrant.fish",
		},
		synopsis: []string{"bucketgrant completion bash|zsh|fish"},
		examples: []usageExample{
			{"Completion in the current bash session", "source <(bucketgrant completion bash)"},
		},
		exits: []exitDoc{{exitOK, "script printed"}, {exitError, "no such shell"}},
		args:  []string{"bash", "zsh", "fish"},
	}
}

func completionAction(s *streams) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Args().Len() != 1 {
			return usagef("completion takes one shell name: bash, zsh or fish")
		}
		switch sh := c.Args().First(); sh {
		case "bash":
			_, err := io.WriteString(s.out, bashCompletion)
			return err
		case "zsh":
			_, err := io.WriteString(s.out, zshCompletion)
			return err
		case "fish":
			_, err := io.WriteString(s.out, fishCompletion)
			return err
		default:
			msg := fmt.Sprintf("no completion for shell %q: bash, zsh or fish", sh)
			if sug := suggest(sh, []string{"bash", "zsh", "fish"}); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
			}
			return usagef("%s", msg)
		}
	}
}

// complete answers `__complete`: words are the arguments typed after
// "bucketgrant", the last one the word being completed ("" after a space).
func complete(w io.Writer, cmds []*command, words []string) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	before := words[:len(words)-1]
	out := func(cands []string) {
		sort.Strings(cands)
		for _, c := range cands {
			if strings.HasPrefix(c, cur) {
				fmt.Fprintln(w, c)
			}
		}
	}
	// Skip the global options before the command.
	i := 0
	for i < len(before) && strings.HasPrefix(before[i], "-") {
		i++
	}
	if i == len(before) {
		if strings.HasPrefix(cur, "-") {
			out([]string{"--no-color", "--help", "--version"})
			return
		}
		out(visibleCommandNames(cmds))
		return
	}
	c := findCommand(cmds, before[i])
	if c == nil {
		return
	}
	fi := flagsOf(c)
	// The value of a flag: the word after it, or after "=".
	if name, value, ok := strings.Cut(strings.TrimLeft(cur, "-"), "="); ok && strings.HasPrefix(cur, "-") {
		vals := flagValues(name, value)
		if len(vals) == 1 && vals[0] == completeFiles {
			fmt.Fprintln(w, completeFiles)
			return
		}
		var cands []string
		for _, v := range vals {
			cands = append(cands, strings.SplitN(cur, "=", 2)[0]+"="+v)
		}
		out(cands)
		return
	}
	if len(before) > i+1 {
		prev := before[len(before)-1]
		if strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") {
			name := strings.TrimLeft(prev, "-")
			if fi.takesValue[name] {
				vals := flagValues(name, cur)
				if len(vals) == 1 && vals[0] == completeFiles {
					fmt.Fprintln(w, completeFiles)
					return
				}
				out(vals)
				return
			}
		}
	}
	if strings.HasPrefix(cur, "-") {
		var cands []string
		for _, n := range sortedNames(c) {
			cands = append(cands, dashed(n))
		}
		out(append(cands, "--no-color", "--help"))
		return
	}
	switch {
	case len(c.args) == 1 && c.args[0] == "files":
		fmt.Fprintln(w, completeFiles)
	case len(c.args) == 1 && c.args[0] == "commands":
		out(visibleCommandNames(cmds))
	default:
		out(c.args)
	}
}

// flagValues lists the values a flag takes; typed is what is typed of
// the value so far (a comma list completes its last item).
func flagValues(name, typed string) []string {
	switch name {
	case "format":
		return []string{"text", "json", "jsonl"}
	case "log-format":
		return []string{"text", "json"}
	case "kms-via":
		return []string{"auto", "key-policy", "identity"}
	case "access":
		done := ""
		if i := strings.LastIndexByte(typed, ','); i >= 0 {
			done = typed[:i+1]
		}
		var out []string
		for _, l := range []string{"read", "write", "list", "versions", "acl"} {
			if !strings.Contains(","+done, ","+l+",") {
				out = append(out, done+l)
			}
		}
		return out
	case "state", "out", "output", "o", "file", "f", "backup-dir":
		return []string{completeFiles}
	}
	return nil
}

const bashCompletion = `# bash completion for bucketgrant; load with: source <(bucketgrant completion bash)
_bucketgrant() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local line="${COMP_LINE:0:COMP_POINT}"
    local -a words
    # Split the line on white space only: ARNs hold ':' and flags '=',
    # which bash's own word splitting would cut.
    read -r -a words <<< "$line"
    if [[ -z "$line" || "$line" =~ [[:space:]]$ ]]; then
        words+=("")
    fi
    local word="${words[${#words[@]}-1]}"
    local out
    out=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0
    if [[ "$out" == ":files" ]]; then
        local IFS=$'\n'
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
    fi
    # bash replaces only its own current word, the part of the typed word
    # after its last ':' or '=': drop what comes before it.
    local prefix="${word%"$cur"}"
    local IFS=$'\n'
    local c
    COMPREPLY=()
    for c in $out; do
        COMPREPLY+=("${c#"$prefix"}")
    done
    return 0
}
complete -o default -F _bucketgrant bucketgrant
`

const zshCompletion = `#compdef bucketgrant
# zsh completion for bucketgrant; save as _bucketgrant in a directory of $fpath.
_bucketgrant() {
    local -a cands
    local out
    out=$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    if [[ "$out" == ":files" ]]; then
        _files
        return
    fi
    cands=("${(@f)out}")
    compadd -- "${cands[@]}"
}
compdef _bucketgrant bucketgrant
`

const fishCompletion = `# fish completion for bucketgrant; save as ~/.config/fish/completions/bucketgrant.fish
function __bucketgrant_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] 2>/dev/null)
    if test "$out" = ":files"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\n' $out
    end
end
complete -c bucketgrant -f -a '(__bucketgrant_complete)'
`
