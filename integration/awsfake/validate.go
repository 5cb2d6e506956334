package awsfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
)

// policyDoc is a parsed policy: the generic JSON tree of a document that
// passed parseStrictJSON.
type policyDoc map[string]any

// parsePolicy checks that doc is one JSON object without duplicate member
// names and with a Statement, as all three services require.
func parsePolicy(doc string) (policyDoc, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON document")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the policy is not a JSON object")
	}
	if _, ok := obj["Statement"]; !ok {
		return nil, errors.New("missing required field Statement")
	}
	return obj, nil
}

const maxDepth = 64

// readValue reads one JSON value, rejecting duplicate object members.
func readValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("document nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return readObject(dec, depth)
		case '[':
			var arr []any
			for dec.More() {
				v, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, fmt.Errorf("invalid JSON: unexpected %v", t)
	default:
		return t, nil
	}
}

func readObject(dec *json.Decoder, depth int) (any, error) {
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("invalid JSON: object key is not a string")
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("duplicate member %q", key)
		}
		v, err := readValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
	_, err := dec.Token()
	return obj, err
}

// nonSpaceLen counts the characters of doc that are not white space, as IAM
// does for its size quotas.
func nonSpaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// statements returns the statement objects of p (Statement may be one
// object or an array).
func (p policyDoc) statements() []map[string]any {
	var out []map[string]any
	switch st := p["Statement"].(type) {
	case map[string]any:
		out = append(out, st)
	case []any:
		for _, v := range st {
			if m, ok := v.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// stringList returns v as a list of strings (a string or an array of them).
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// awsPrincipals returns the AWS principal strings of a Principal or
// NotPrincipal value ("*" for the bare wildcard).
func awsPrincipals(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case map[string]any:
		return stringList(t["AWS"])
	}
	return nil
}

// principals returns every AWS principal named in p's Principal and
// NotPrincipal elements.
func (p policyDoc) principals() []string {
	var out []string
	for _, st := range p.statements() {
		out = append(out, awsPrincipals(st["Principal"])...)
		out = append(out, awsPrincipals(st["NotPrincipal"])...)
	}
	return out
}

// hasPrincipalElement reports whether any statement has Principal or
// NotPrincipal (forbidden in identity policies).
func (p policyDoc) hasPrincipalElement() bool {
	for _, st := range p.statements() {
		if _, ok := st["Principal"]; ok {
			return true
		}
		if _, ok := st["NotPrincipal"]; ok {
			return true
		}
	}
	return false
}

// allows reports whether some Allow statement of p matches action and names
// one of the principals (exact strings, "*" matches everyone). Conditions
// are ignored, as KMS's lockout check and a trust check may do here.
func (p policyDoc) allows(action string, principals []string) bool {
	for _, st := range p.statements() {
		if st["Effect"] != "Allow" || !statementMatchesAction(st, action) {
			continue
		}
		for _, named := range awsPrincipals(st["Principal"]) {
			if named == "*" {
				return true
			}
			for _, want := range principals {
				if named == want {
					return true
				}
			}
		}
	}
	return false
}

func statementMatchesAction(st map[string]any, action string) bool {
	if acts, ok := st["Action"]; ok {
		for _, a := range stringList(acts) {
			if wildcardMatch(a, action) {
				return true
			}
		}
		return false
	}
	if acts, ok := st["NotAction"]; ok {
		for _, a := range stringList(acts) {
			if wildcardMatch(a, action) {
				return false
			}
		}
		return true
	}
	return false
}

// wildcardMatch matches s against pattern with * and ? case-insensitively.
func wildcardMatch(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("(?is)^")
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	m, err := regexp.MatchString(re.String(), s)
	return err == nil && m
}

var (
	iamPrincipalRe = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):(user|role)(/.*)$`)
	sessionRe      = regexp.MustCompile(`^arn:aws:sts::([0-9]{12}):assumed-role/([^/]+)/.+$`)
	rootRe         = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):root$`)
	uniqueIDRe     = regexp.MustCompile(`^A[A-Z]{3}[A-Z0-9]{12,}$`)
)

// principalValid reports whether principal names something AWS would
// accept in a resource policy. Caller holds s.mu.
func (s *Server) principalValid(principal string) bool {
	switch {
	case principal == "*", accountIDRe.MatchString(principal), rootRe.MatchString(principal):
		return true
	case iamPrincipalRe.MatchString(principal):
		m := iamPrincipalRe.FindStringSubmatch(principal)
		a := s.accounts[m[1]]
		return a == nil || a.entityByARN(principal) != nil
	case sessionRe.MatchString(principal):
		m := sessionRe.FindStringSubmatch(principal)
		a := s.accounts[m[1]]
		return a == nil || a.roleARNByName(m[2]) != ""
	case uniqueIDRe.MatchString(principal):
		return s.entityByUniqueID(principal) != nil
	}
	return false
}

// invalidPrincipal returns the first principal of p that principalValid
// rejects, or "". Caller holds s.mu.
func (s *Server) invalidPrincipal(p policyDoc) string {
	for _, pr := range p.principals() {
		if !s.principalValid(pr) {
			return pr
		}
	}
	return ""
}

// rewritePrincipals returns doc with every AWS principal string (under
// Statement[].Principal.AWS or NotPrincipal.AWS) for which replace returns
// (new, true) replaced in place. The rest of the text is kept byte for
// byte; a document that does not parse is returned unchanged.
func rewritePrincipals(doc string, replace func(string) (string, bool)) string {
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	dec := json.NewDecoder(strings.NewReader(doc))
	err := walkStrings(dec, nil, func(path []string, val string) {
		n := len(path)
		if n != 3 || path[0] != "Statement" || path[2] != "AWS" || (path[1] != "Principal" && path[1] != "NotPrincipal") {
			return
		}
		repl, ok := replace(val)
		if !ok {
			return
		}
		quoted, _ := json.Marshal(val)
		end := int(dec.InputOffset())
		start := end - len(quoted)
		if start >= 0 && doc[start:end] == string(quoted) {
			newQuoted, _ := json.Marshal(repl)
			edits = append(edits, edit{start, end, string(newQuoted)})
		}
	})
	if err != nil {
		return doc
	}
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		doc = doc[:e.start] + e.text + doc[e.end:]
	}
	return doc
}

// walkStrings calls visit for every string value with the object keys
// leading to it (array levels add nothing to the path).
func walkStrings(dec *json.Decoder, path []string, visit func(path []string, val string)) error {
	if len(path) > maxDepth {
		return errors.New("document nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case string:
		visit(path, t)
	case json.Delim:
		for dec.More() {
			p := path
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := key.(string)
				p = append(path[:len(path):len(path)], k)
			}
			if err := walkStrings(dec, p, visit); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}
