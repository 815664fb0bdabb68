package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/helpstream/helpstream/internal/privacy"
)

func init() {
	register(command{"master-key", masterKeySummary, runMasterKey})
}

const masterKeySummary = "write a new master key (for --master-key-file) to a file readable by its owner only"

func runMasterKey(_ context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("master-key", masterKeySummary, out)
	file := fs.String("out", "", "the file to write; an existing file is refused (replacing a key in use loses every field it sealed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("master-key: --out is required")
	}
	if err := writeMasterKey(*file); err != nil {
		return fmt.Errorf("master-key: %w", err)
	}
	fmt.Fprintf(out, "wrote a new master key to %s: give it to every server and worker of the deployment (--master-key-file), and keep it apart from the database's backups\n", *file)
	return nil
}

// writeMasterKey writes a fresh master key to path (created readable by its owner only, its
// directory too when missing); an existing file is refused.
func writeMasterKey(path string) error {
	key, err := privacy.NewMasterKeyText()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
