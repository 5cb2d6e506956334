package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Seal sets the plan's checksum over its content. A saved plan is the
// record of what a reviewer approved; apply refuses one whose checksum does
// not match, so a hand edit (or a truncated file) cannot slip through.
// The checksum detects changes; it is not a signature.
func (p *Plan) Seal() {
	p.Checksum = ""
	p.Checksum = p.digest()
}

func (p *Plan) digest() string {
	c := *p
	c.Checksum = ""
	b, _ := json.Marshal(c) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ReadPlan parses a saved plan and checks its format and checksum.
func ReadPlan(name string, data []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("plan %s: not a bucketgrant plan: %w", name, err)
	}
	if p.Format != PlanFormat {
		return nil, fmt.Errorf("plan %s: format %q is not %q; make the plan again with this version of bucketgrant", name, p.Format, PlanFormat)
	}
	if p.Checksum == "" {
		return nil, errors.New("plan " + name + ": it has no checksum; make the plan again with `bucketgrant plan --out`")
	}
	if p.Checksum != p.digest() {
		return nil, fmt.Errorf("plan %s was changed after it was made (its checksum does not match); make the plan again and review it", name)
	}
	return &p, nil
}
