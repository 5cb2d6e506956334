package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// globalFlagNames are the options every command takes, before or after
// the command name.
func globalFlagNames() []string { return []string{"no-color", "help", "version"} }

func visibleCommandNames(cmds []*command) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

// flagInfo says how a command's flags read their values.
type flagInfo struct {
	takesValue map[string]bool
	canonical  map[string]string // any name or alias -> the flag's first name
}

func flagsOf(c *command) flagInfo {
	fi := flagInfo{takesValue: map[string]bool{}, canonical: map[string]string{}}
	for _, f := range c.Flags {
		_, isBool := f.(*cli.BoolFlag)
		names := f.Names()
		for _, n := range names {
			fi.takesValue[n] = !isBool
			fi.canonical[n] = names[0]
		}
	}
	return fi
}

// scanCommandArgs reads a command's arguments before the flag package
// does, for what it cannot do: --no-color and --help anywhere, a value
// flag given twice (the flag package keeps the last and drops the first
// without a word: `--access read,write --access list` would plan list
// only), and flags after positional arguments (`apply PLAN.json --yes`,
// as the synopsis shows; the flag package stops at the first argument).
// It returns the arguments with flags first.
func scanCommandArgs(s *streams, c *command, tokens []string) (rest []string, help bool, err error) {
	// --help wins over everything else on the line, as in git and gh: a
	// person asking for help with a half-typed command gets the help.
	for _, t := range tokens {
		if t == "--" {
			break
		}
		if t == "-h" || t == "--help" {
			return nil, true, nil
		}
	}
	fi := flagsOf(c)
	seen := map[string]string{}
	var flags, positional []string
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		switch {
		case t == "--":
			positional = append(positional, tokens[i+1:]...)
			i = len(tokens)
		case t == "--no-color":
			s.noColor = true
		case t == "-h" || t == "--help":
			help = true
		case strings.HasPrefix(t, "-") && len(t) > 1:
			name, _, hasValue := strings.Cut(strings.TrimLeft(t, "-"), "=")
			canon, known := fi.canonical[name]
			if !known {
				return nil, false, unknownFlag(t, c, nil)
			}
			flags = append(flags, t)
			if fi.takesValue[name] {
				given := t
				if !hasValue && i+1 < len(tokens) {
					i++
					flags = append(flags, tokens[i])
					given += " " + tokens[i]
				}
				if prev, dup := seen[canon]; dup {
					return nil, false, usagef("--%s is given twice (%s, then %s); give it once%s", canon, prev, given, combineHint(canon))
				}
				seen[canon] = given
			}
		default:
			positional = append(positional, t)
		}
	}
	if help {
		return nil, true, nil
	}
	rest = append(flags, positional...)
	if len(positional) > 0 {
		// Keep "--" so that a positional argument starting with "-" is not
		// read as a flag.
		rest = append(append(flags, "--"), positional...)
	}
	return rest, false, nil
}

func combineHint(flag string) string {
	if flag == "access" {
		return ", with the levels in one list: --access read,write,list"
	}
	return ""
}

// unknownFlag is the one-line error for a flag no command has, with the
// nearest spelling.
func unknownFlag(given string, c *command, names []string) error {
	if c != nil {
		for _, f := range c.Flags {
			if !isHidden(f) {
				names = append(names, f.Names()...)
			}
		}
		names = append(names, globalFlagNames()...)
	}
	name, _, _ := strings.Cut(strings.TrimLeft(given, "-"), "=")
	msg := fmt.Sprintf("unknown flag %s", dashed(name))
	if sug := suggest(name, names); sug != "" {
		msg += fmt.Sprintf("; did you mean %s?", dashed(sug))
	}
	ue := &usageError{msg: msg}
	if c != nil {
		ue.cmd = c.Name
	}
	return ue
}

func isHidden(f cli.Flag) bool {
	type hidable interface{ IsVisible() bool }
	if h, ok := f.(hidable); ok {
		return !h.IsVisible()
	}
	return false
}

// dashed spells a flag as help does: --name, or -n for one letter.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

var (
	reUndefined = regexp.MustCompile(`flag provided but not defined: -+(\S+)`)
	reNeedsArg  = regexp.MustCompile(`flag needs an argument: -+(\S+)`)
	reBadValue  = regexp.MustCompile(`invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:\s]+)`)
)

// flagError turns the flag package's error into bucketgrant's words: the
// flag as it is spelled, what was wrong with its value and what is
// expected.
func flagError(c *command, err error) error {
	msg := err.Error()
	if m := reUndefined.FindStringSubmatch(msg); m != nil {
		return unknownFlag(m[1], c, nil)
	}
	if m := reNeedsArg.FindStringSubmatch(msg); m != nil {
		return &usageError{cmd: c.Name, msg: fmt.Sprintf("%s needs a value (%s)", dashed(m[1]), placeholder(m[1]))}
	}
	if m := reBadValue.FindStringSubmatch(msg); m != nil {
		value, name := m[1], m[2]
		var f cli.Flag
		for _, x := range c.Flags {
			for _, n := range x.Names() {
				if n == name {
					f = x
				}
			}
		}
		want := "a valid value"
		switch f.(type) {
		case *cli.DurationFlag:
			want = "a duration with its unit, such as 30s, 2m or 1h"
		case *cli.IntFlag:
			want = "a whole number"
		case *cli.BoolFlag:
			want = "true or false (or the flag alone)"
		}
		return &usageError{cmd: c.Name, msg: fmt.Sprintf("%s %q: expected %s", dashed(name), value, want)}
	}
	return &usageError{cmd: c.Name, msg: msg}
}

// suggest returns the name nearest to given when it is near enough to be
// a slip of the keyboard: an edit distance of at most 2 (1 for short
// names), or given is the start of exactly one name.
func suggest(given string, names []string) string {
	given = strings.ToLower(given)
	best, bestD := "", 1<<30
	var prefixed []string
	for _, n := range names {
		if strings.HasPrefix(n, given) && given != "" {
			prefixed = append(prefixed, n)
		}
		if d := distance(given, n); d < bestD {
			best, bestD = n, d
		}
	}
	limit := 2
	if len(given) <= 3 {
		limit = 1
	}
	if bestD <= limit {
		return best
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// distance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of two neighbours (plna -> plan)
// each count one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// sortedNames returns a command's flag names (first names), sorted.
func sortedNames(c *command) []string {
	var out []string
	for _, f := range c.Flags {
		if !isHidden(f) {
			out = append(out, f.Names()[0])
		}
	}
	sort.Strings(out)
	return out
}
