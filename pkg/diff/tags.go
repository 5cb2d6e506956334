package diff

import (
	"fmt"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/policy"
)

// Principal tags. aws:PrincipalTag/<key> is the value of the tag <key> on
// the principal making the request (IAM User Guide, global condition keys).
// For an IAM user that is a fact once its tags are read: a tag it does not
// have is absent from every request. A role's sessions are different: a
// session tag replaces a role tag with the same key (IAM User Guide,
// "Passing session tags in AWS STS"), and bucketgrant cannot know which
// session tags a session carries, so for a role the key stays unknown and a
// verdict that depends on it says so, naming the role's own tags.

const principalTagPrefix = "aws:principaltag/"

// tagsRead reports whether the principal's tags were read.
func (p *planner) tagsRead() bool { return p.principal != nil && p.principal.Tags != nil }

// addPrincipalTags puts a user's tags into a request context.
func (p *planner) addPrincipalTags(ctx map[string][]string) {
	if p.kind != "user" || !p.tagsRead() {
		return
	}
	for _, t := range p.principal.Tags {
		ctx["aws:PrincipalTag/"+t.Key] = []string{t.Value}
	}
}

// principalTagOrigin classifies aws:PrincipalTag/<key> when the context
// lacks it: for a user whose tags were read, the user has no such tag, so
// the key is absent; otherwise it is left to the general rule (unknown).
func (p *planner) principalTagOrigin(lowerKey string) (keyOrigin, bool) {
	if !strings.HasPrefix(lowerKey, principalTagPrefix) || p.kind != "user" || !p.tagsRead() {
		return keyOrigin{}, false
	}
	return keyOrigin{kind: originAbsent}, true
}

// noteSessionTags adds to each request whose verdict hangs on a principal
// tag of a role what bucketgrant knows: the role's own tags (when read),
// which a session tag of the same key replaces.
func (p *planner) noteSessionTags() {
	if p.kind != "role" {
		return
	}
	for i := range p.plan.Requests {
		r := &p.plan.Requests[i]
		var keys []string
		for _, k := range r.Undecided {
			if strings.HasPrefix(strings.ToLower(k), principalTagPrefix) {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 || (r.Condition == "" && r.Before == policy.Allowed && r.After == policy.Allowed) {
			continue
		}
		note := "session tags replace role tags of the same key and bucketgrant cannot read them"
		if p.tagsRead() {
			var own []string
			for _, k := range keys {
				name := k[len(principalTagPrefix):]
				v := "no such tag"
				for _, t := range p.principal.Tags {
					if strings.EqualFold(t.Key, name) {
						v = "= " + t.Value
					}
				}
				own = append(own, fmt.Sprintf("%s %s", name, v))
			}
			note = fmt.Sprintf("the role's own tags: %s; %s", strings.Join(own, ", "), note)
		} else {
			note = "the role's tags were not read, and " + note
		}
		if r.Condition != "" {
			r.Condition += " (" + note + ")"
		}
	}
}
