package main

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads the index under every reference. Credentials come from the Docker config (~/.docker/config.json, or
// $DOCKER_CONFIG), which `docker login` and the registries' login actions
// write; blobs the registry already has are not sent again.
func Push(ctx context.Context, idx v1.ImageIndex, refs []string, opts ...remote.Option) (v1.Hash, error) {
	if len(refs) == 0 {
		return v1.Hash{}, fmt.Errorf("no reference to push to")
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	parsed := make([]name.Reference, len(refs))
	for i, r := range refs {
		ref, err := name.ParseReference(r, name.StrictValidation)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("-push %q: %w (write registry/repository:tag)", r, err)
		}
		parsed[i] = ref
	}
	digest, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	// Each reference gets its own WriteIndex: the blobs the first one sent
	// are found by a HEAD request and not sent again, and a reference in
	// another repository works as well as another tag.
	for _, ref := range parsed {
		if err := remote.WriteIndex(ref, idx, opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("pushing %s: %w", ref, err)
		}
	}
	return digest, nil
}
