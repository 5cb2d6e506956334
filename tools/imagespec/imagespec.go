// Package imagespec holds the facts about bucketgrant's container image
// that its builder (tools/ociimage) makes true and the Kubernetes example's
// check (tools/k8scheck) relies on, so the two cannot drift apart.
package imagespec

const (
	// Repository is where the release workflow publishes the image and
	// what `make image` names it.
	Repository = "ghcr.io/bucketgrant/bucketgrant"
	// BinaryPath is the binary inside the image: the same path `make
	// install` uses, so commands read the same everywhere.
	BinaryPath = "/usr/local/bin/bucketgrant"
	// UID and GID are the image's user. A numeric USER lets Kubernetes'
	// runAsNonRoot verify it without reading /etc/passwd; 65532 is the
	// value distroless images use, so volume permissions carry over.
	UID = 65532
	GID = 65532
	// UserName and Home name that user and its home directory.
	UserName = "bucketgrant"
	Home     = "/home/bucketgrant"
	// BackupDir is where the image's bucketgrant keeps its backups
	// (BUCKETGRANT_BACKUP_DIR is set to it). It exists in the image, owned
	// by the user, so a volume mounted there starts out writable for it
	// (Docker and Podman copy a directory's owner to a new named volume).
	BackupDir = "/var/lib/bucketgrant/backups"
	// CABundlePath is the first file Go's crypto/x509 reads on Linux.
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
)
