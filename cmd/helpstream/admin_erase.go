package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/helpstream/helpstream/internal/service"
)

func init() {
	adminActions = append(adminActions, adminAction{"erase-customer",
		"erase a customer's personal data (destroys their key, deletes their files, rebuilds the read models): --email E --reason TEXT [--json]", eraseCustomer})
}

func eraseCustomer(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	email := fs.String("email", "", "the customer's e-mail address, as they gave it when submitting (case and surrounding spaces do not matter)")
	reason := fs.String("reason", "", "why (recorded in the customer.erased.v1 event), e.g. \"GDPR art. 17 request #12\"")
	asJSON := fs.Bool("json", false, "print the erasure as JSON")
	return func(ctx context.Context, svc *service.Service, out io.Writer) error {
		if strings.TrimSpace(*email) == "" {
			return errors.New("admin erase-customer: --email is required")
		}
		x, err := svc.EraseCustomer(ctx, *email, *reason, adminMeta().Actor.String())
		if err != nil {
			return fmt.Errorf("admin erase-customer: %w", err)
		}
		if *asJSON {
			return writeJSON(out, x)
		}
		fmt.Fprintf(out, "erasure %s: key %s destroyed; %d request(s), %d file(s) deleted; read models rebuilt: %s; customer.erased.v1 at %s\n",
			x.ID, x.KeyID, len(x.Requests), x.FilesDeleted, strings.Join(x.Rebuilt, ", "), x.Position)
		return nil
	}
}

func init() {
	adminActions = append(adminActions, adminAction{"export-customer",
		"write everything held about a customer (their requests' events opened, and their files) to a zip archive: --email E --out FILE", exportCustomer})
}

func exportCustomer(fs *flag.FlagSet) func(context.Context, *service.Service, io.Writer) error {
	email := fs.String("email", "", "the customer's e-mail address, as they gave it when submitting (case and surrounding spaces do not matter)")
	out := fs.String("out", "", "the archive to write (zip; readable by its owner only); an existing file is refused")
	return func(ctx context.Context, svc *service.Service, w io.Writer) error {
		switch {
		case strings.TrimSpace(*email) == "":
			return errors.New("admin export-customer: --email is required")
		case *out == "":
			return errors.New("admin export-customer: --out is required")
		}
		tmp := *out + ".partial"
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("admin export-customer: %w", err)
		}
		x, err := svc.ExportCustomer(ctx, *email, f)
		if closeErr := f.Close(); err == nil {
			err = closeErr
		}
		if err == nil {
			if _, statErr := os.Stat(*out); statErr == nil {
				err = fmt.Errorf("%s exists already", *out)
			} else {
				err = os.Rename(tmp, *out)
			}
		}
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("admin export-customer: %w", err)
		}
		fmt.Fprintf(w, "wrote %s: %d request(s), %d file(s) of the customer (key %s)\n", *out, len(x.Requests), x.Files, x.KeyID)
		return nil
	}
}
