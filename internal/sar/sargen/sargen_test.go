package sargen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseGlobalKeys(t *testing.T) {
	good := `import {} from './x.js';
export const globalConditionKeys = [
    {
        key: 'aws:PrincipalArn',
        category: "principal",
        type: 'ARN', // a comment
        description: ''
    },
    /* block */ { key: 'aws:PrincipalTag/tag-key', category: 'principal', type: 'String', },
];
const other = [{ key: 'ignored' }];`
	keys, err := parseGlobalKeys([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != (GlobalKey{"aws:PrincipalArn", "principal", "ARN"}) || keys[1].Name != "aws:PrincipalTag/tag-key" {
		t.Fatalf("got %+v", keys)
	}
	bad := map[string]string{
		"no marker":          `export const other = [];`,
		"empty":              `export const globalConditionKeys = [];`,
		"computed value":     `export const globalConditionKeys = [{ key: 'a:b', category: 'c', type: T }];`,
		"missing type":       `export const globalConditionKeys = [{ key: 'a:b', category: 'c' }];`,
		"duplicate member":   `export const globalConditionKeys = [{ key: 'a:b', key: 'a:c', category: 'c', type: 'S' }];`,
		"duplicate key":      `export const globalConditionKeys = [{ key: 'a:b', category: 'c', type: 'S' }, { key: 'A:B', category: 'c', type: 'S' }];`,
		"spread":             `export const globalConditionKeys = [...more];`,
		"unterminated":       `export const globalConditionKeys = [{ key: 'a:b`,
		"odd escape":         `export const globalConditionKeys = [{ key: 'a\nb', category: 'c', type: 'S' }];`,
		"missing comma":      `export const globalConditionKeys = [{ key: 'a:b' category: 'c', type: 'S' }];`,
		"truncated":          `export const globalConditionKeys = [{ key: 'a:b', category: 'c', type: 'S' }`,
		"unterminated block": `export const globalConditionKeys = [ /* `,
	}
	for name, src := range bad {
		if _, err := parseGlobalKeys([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadMissingPackage(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "npm ci --prefix oracle") {
		t.Fatalf("err = %v; want a hint to install", err)
	}
}

func TestReadRefusesAnotherPackage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"@cloud-copilot/iam-simulate","version":"1","license":"AGPL-3.0-or-later"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "iam-simulate") {
		t.Fatalf("err = %v", err)
	}
}
