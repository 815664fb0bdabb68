// Package directory is the directory read model: companies and their portals, technicians with
// their availability, notification settings and company access, and auditors with the
// companies they may read. It is what R2 filtering reads (who may see which company's
// requests, who is Available) and what the admin lists show.
//
// The projection ("directory") folds the company, technician and auditor streams; ReadModel answers the
// application's DirectoryReadModel port from its tables.
package directory

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
)

// Name is the projection's name: its checkpoint row, advisory lock and metrics label.
const Name = "directory"

// Projection keeps the directory tables. It implements projections.Projection.
type Projection struct {
	codec *eventlog.Codec
}

// NewProjection returns the directory projection.
func NewProjection() *Projection { return &Projection{codec: dir.Codec()} }

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// Tables implements projections.Projection.
func (*Projection) Tables() []string {
	return []string{"directory_companies", "directory_portals", "directory_technicians", "directory_access",
		"directory_auditors", "directory_auditor_access", "directory_canned_responses"}
}

// Schema implements projections.Projection.
//
// directory_access and directory_auditor_access keep, for each grant, the log position of the
// event that granted it, so that a technician's or an auditor's companies come back in the
// order the aggregate holds them.
func (*Projection) Schema() string {
	return `
CREATE TABLE directory_companies (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE directory_portals (
    id         uuid PRIMARY KEY,
    company_id uuid NOT NULL,
    name       text NOT NULL
);
CREATE INDEX directory_portals_company_idx ON directory_portals (company_id);
CREATE TABLE directory_technicians (
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    email             text NOT NULL,
    availability      text NOT NULL,
    notify_email      boolean NOT NULL,
    notify_webhook    boolean NOT NULL,
    notify_in_console boolean NOT NULL
);
CREATE TABLE directory_access (
    technician_id uuid   NOT NULL,
    company_id    uuid   NOT NULL,
    granted_hi    bigint NOT NULL,
    granted_lo    bigint NOT NULL,
    PRIMARY KEY (technician_id, company_id)
);
CREATE INDEX directory_access_company_idx ON directory_access (company_id, technician_id);
CREATE TABLE directory_auditors (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    email         text NOT NULL,
    all_companies boolean NOT NULL
);
CREATE TABLE directory_auditor_access (
    auditor_id uuid   NOT NULL,
    company_id uuid   NOT NULL,
    granted_hi bigint NOT NULL,
    granted_lo bigint NOT NULL,
    PRIMARY KEY (auditor_id, company_id)
);
CREATE TABLE directory_canned_responses (
    company_id  uuid NOT NULL,
    response_id uuid NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    PRIMARY KEY (company_id, response_id)
);
`
}

// cannedKey is one canned response of one company.
type cannedKey struct{ company, response uuid.UUID }

// canned is a canned response's state after a batch: saved with a title and body, or removed.
type canned struct {
	title, body string
	removed     bool
}

func writeCanned(ctx context.Context, tx pgx.Tx, order []cannedKey, final map[cannedKey]canned) error {
	var companies, responses, goneCompanies, goneResponses []uuid.UUID
	var titles, bodies []string
	for _, k := range order {
		c := final[k]
		if c.removed {
			goneCompanies, goneResponses = append(goneCompanies, k.company), append(goneResponses, k.response)
			continue
		}
		companies, responses = append(companies, k.company), append(responses, k.response)
		titles, bodies = append(titles, projections.Text(c.title)), append(bodies, projections.Text(c.body))
	}
	if len(goneCompanies) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM directory_canned_responses d USING unnest($1::uuid[], $2::uuid[]) AS g(company_id, response_id)
			WHERE d.company_id = g.company_id AND d.response_id = g.response_id`, goneCompanies, goneResponses); err != nil {
			return fmt.Errorf("directory: remove canned responses: %w", err)
		}
	}
	if len(companies) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO directory_canned_responses (company_id, response_id, title, body)
			SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
			ON CONFLICT (company_id, response_id) DO UPDATE SET title = excluded.title, body = excluded.body`,
			companies, responses, titles, bodies); err != nil {
			return fmt.Errorf("directory: write canned responses: %w", err)
		}
	}
	return nil
}

type portal struct {
	companyID uuid.UUID
	name      string
}

type technician struct {
	name, email  string
	availability dir.Availability
	notify       dir.NotificationSettings
}

// accessKey names a grant: a technician's or an auditor's (their IDs never collide), of a
// company.
type accessKey struct{ technician, company uuid.UUID }

// auditor is an auditor as the batch leaves them: registered (all fields) or only their grant
// of every company changed (allChanged).
type auditor struct {
	name, email string
	all         bool
	registered  bool
}

// access is what a batch leaves of one grant: granted (at the position hi, lo) or not, and
// whether a revocation came in the batch (reset), which ends any grant an earlier batch wrote.
type access struct {
	granted bool
	reset   bool
	hi, lo  uint64
}

// noteGrant folds one grant or revocation of k into the batch's grants, as the aggregates do: a
// grant of what is granted already keeps its first place in the order of the companies.
func noteGrant(grants map[accessKey]access, order *[]accessKey, k accessKey, granted bool, pos eventlog.Position) {
	prev, seen := grants[k]
	if !seen {
		*order = append(*order, k)
	}
	switch {
	case !granted:
		grants[k] = access{reset: true}
	case seen && prev.granted:
	default:
		hi, lo := pos.Parts()
		grants[k] = access{granted: true, reset: seen, hi: hi, lo: lo}
	}
}

// Apply implements projections.Projection: it folds the batch in memory (per company, portal,
// technician and grant, the batch's final state) and writes it with one multi-row statement per
// table.
func (p *Projection) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	companies := map[uuid.UUID]string{}
	portals := map[uuid.UUID]portal{}
	techs := map[uuid.UUID]*technician{}
	var techOrder []uuid.UUID
	grants := map[accessKey]access{}
	var grantOrder []accessKey
	auditors := map[uuid.UUID]*auditor{}
	var auditorOrder []uuid.UUID
	auditorGrants := map[accessKey]access{}
	var auditorGrantOrder []accessKey
	cannedFinal := map[cannedKey]canned{}
	var cannedOrder []cannedKey
	noteCanned := func(k cannedKey, c canned) {
		if _, ok := cannedFinal[k]; !ok {
			cannedOrder = append(cannedOrder, k)
		}
		cannedFinal[k] = c
	}
	// Technicians changed by this batch but registered before it are read first.
	var missing []uuid.UUID
	seen := map[uuid.UUID]bool{}
	var events []eventlog.Event
	var positions []eventlog.Position
	for _, rec := range batch {
		if !p.codec.Knows(rec.Type) {
			continue
		}
		e, err := p.codec.Decode(rec.Type, rec.Data)
		if err != nil {
			return &projections.EventError{ID: rec.ID, Position: rec.Position,
				Err: fmt.Errorf("directory: decode %s at %s: %w", rec.Type, rec.Position, err)}
		}
		events = append(events, e)
		positions = append(positions, rec.Position)
		var id uuid.UUID
		registered := false
		switch e := e.(type) {
		case *dir.TechnicianRegistered:
			id, registered = e.TechnicianID, true
		case *dir.AvailabilityChanged:
			id = e.TechnicianID
		case *dir.NotificationSettingsChanged:
			id = e.TechnicianID
		default:
			continue
		}
		if !seen[id] {
			seen[id] = true
			techOrder = append(techOrder, id)
			if !registered {
				missing = append(missing, id)
			}
		}
	}
	if len(events) == 0 {
		return nil
	}
	if len(missing) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, name, email, availability, notify_email, notify_webhook, notify_in_console
			FROM directory_technicians WHERE id = ANY($1)`, missing)
		if err != nil {
			return fmt.Errorf("directory: read technicians: %w", err)
		}
		for rows.Next() {
			var id uuid.UUID
			t := &technician{}
			if err := rows.Scan(&id, &t.name, &t.email, &t.availability, &t.notify.Email, &t.notify.Webhook, &t.notify.InConsole); err != nil {
				rows.Close()
				return fmt.Errorf("directory: read technicians: %w", err)
			}
			techs[id] = t
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("directory: read technicians: %w", err)
		}
	}
	for i, e := range events {
		switch e := e.(type) {
		case *dir.CompanyCreated:
			companies[e.CompanyID] = e.Name
		case *dir.PortalCreated:
			portals[e.PortalID] = portal{companyID: e.CompanyID, name: e.Name}
		case *dir.CannedResponseSaved:
			noteCanned(cannedKey{e.CompanyID, e.ResponseID}, canned{title: e.Title, body: e.Body})
		case *dir.CannedResponseRemoved:
			noteCanned(cannedKey{e.CompanyID, e.ResponseID}, canned{removed: true})
		case *dir.TechnicianRegistered:
			techs[e.TechnicianID] = &technician{name: e.Name, email: e.Email, availability: dir.Offline, notify: dir.DefaultNotificationSettings()}
		case *dir.AvailabilityChanged:
			if t := techs[e.TechnicianID]; t != nil {
				t.availability = e.Availability
			}
		case *dir.NotificationSettingsChanged:
			if t := techs[e.TechnicianID]; t != nil {
				t.notify = e.Settings()
			}
		case *dir.AuditorRegistered:
			if _, ok := auditors[e.AuditorID]; !ok {
				auditorOrder = append(auditorOrder, e.AuditorID)
			}
			auditors[e.AuditorID] = &auditor{name: e.Name, email: e.Email, registered: true}
		case *dir.AuditorAccessGranted:
			noteAuditorGrant(auditors, &auditorOrder, auditorGrants, &auditorGrantOrder, e.AuditorID, e.CompanyID, e.AllCompanies, true, positions[i])
		case *dir.AuditorAccessRevoked:
			noteAuditorGrant(auditors, &auditorOrder, auditorGrants, &auditorGrantOrder, e.AuditorID, e.CompanyID, e.AllCompanies, false, positions[i])
		case *dir.AccessGranted, *dir.AccessRevoked:
			var k accessKey
			granted := false
			if g, ok := e.(*dir.AccessGranted); ok {
				k, granted = accessKey{g.TechnicianID, g.CompanyID}, true
			} else {
				r := e.(*dir.AccessRevoked)
				k = accessKey{r.TechnicianID, r.CompanyID}
			}
			noteGrant(grants, &grantOrder, k, granted, positions[i])
		}
	}
	if err := writeCompanies(ctx, tx, companies); err != nil {
		return err
	}
	if err := writePortals(ctx, tx, portals); err != nil {
		return err
	}
	if err := writeTechnicians(ctx, tx, techOrder, techs); err != nil {
		return err
	}
	if err := writeAccess(ctx, tx, "directory_access", "technician_id", grantOrder, grants); err != nil {
		return err
	}
	if err := writeAuditors(ctx, tx, auditorOrder, auditors); err != nil {
		return err
	}
	if err := writeCanned(ctx, tx, cannedOrder, cannedFinal); err != nil {
		return err
	}
	return writeAccess(ctx, tx, "directory_auditor_access", "auditor_id", auditorGrantOrder, auditorGrants)
}

// noteAuditorGrant folds an auditor's grant or revocation as the aggregate does: of every
// company (on the auditor's row), of one company (a row of directory_auditor_access), or both.
func noteAuditorGrant(auditors map[uuid.UUID]*auditor, order *[]uuid.UUID, grants map[accessKey]access, grantOrder *[]accessKey,
	auditorID, companyID uuid.UUID, all, granted bool, pos eventlog.Position) {
	if all {
		a, ok := auditors[auditorID]
		if !ok {
			a = &auditor{}
			auditors[auditorID] = a
			*order = append(*order, auditorID)
		}
		a.all = granted
	}
	if companyID != uuid.Nil {
		noteGrant(grants, grantOrder, accessKey{auditorID, companyID}, granted, pos)
	}
}

// writeAuditors writes the auditors registered in the batch whole, and only the grant of every
// company of the others (an auditor this read model never saw registered is left out).
func writeAuditors(ctx context.Context, tx pgx.Tx, order []uuid.UUID, auditors map[uuid.UUID]*auditor) error {
	var ids, changedIDs []uuid.UUID
	var names, emails []string
	var alls, changedAlls []bool
	for _, id := range order {
		a := auditors[id]
		if a.registered {
			ids, names, emails = append(ids, id), append(names, projections.Text(a.name)), append(emails, projections.Text(a.email))
			alls = append(alls, a.all)
		} else {
			changedIDs, changedAlls = append(changedIDs, id), append(changedAlls, a.all)
		}
	}
	if len(ids) > 0 {
		_, err := tx.Exec(ctx, `INSERT INTO directory_auditors (id, name, email, all_companies)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[])
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, all_companies = excluded.all_companies`,
			ids, names, emails, alls)
		if err != nil {
			return fmt.Errorf("directory: write auditors: %w", err)
		}
	}
	if len(changedIDs) > 0 {
		_, err := tx.Exec(ctx, `UPDATE directory_auditors a SET all_companies = c.all_companies
			FROM unnest($1::uuid[], $2::boolean[]) AS c(id, all_companies) WHERE a.id = c.id`, changedIDs, changedAlls)
		if err != nil {
			return fmt.Errorf("directory: write auditors' grants of every company: %w", err)
		}
	}
	return nil
}

func writeCompanies(ctx context.Context, tx pgx.Tx, companies map[uuid.UUID]string) error {
	if len(companies) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(companies))
	names := make([]string, 0, len(companies))
	for id, name := range companies {
		ids, names = append(ids, id), append(names, projections.Text(name))
	}
	_, err := tx.Exec(ctx, `INSERT INTO directory_companies (id, name)
		SELECT * FROM unnest($1::uuid[], $2::text[])
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, ids, names)
	if err != nil {
		return fmt.Errorf("directory: write companies: %w", err)
	}
	return nil
}

func writePortals(ctx context.Context, tx pgx.Tx, portals map[uuid.UUID]portal) error {
	if len(portals) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(portals))
	companies := make([]uuid.UUID, 0, len(portals))
	names := make([]string, 0, len(portals))
	for id, p := range portals {
		ids, companies, names = append(ids, id), append(companies, p.companyID), append(names, projections.Text(p.name))
	}
	_, err := tx.Exec(ctx, `INSERT INTO directory_portals (id, company_id, name)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
		ON CONFLICT (id) DO UPDATE SET company_id = excluded.company_id, name = excluded.name`, ids, companies, names)
	if err != nil {
		return fmt.Errorf("directory: write portals: %w", err)
	}
	return nil
}

func writeTechnicians(ctx context.Context, tx pgx.Tx, order []uuid.UUID, techs map[uuid.UUID]*technician) error {
	var ids []uuid.UUID
	var names, emails, availabilities []string
	var notifyEmail, webhooks, inConsole []bool
	for _, id := range order {
		t := techs[id]
		if t == nil {
			continue // a change to a technician this read model never saw registered
		}
		ids = append(ids, id)
		names, emails = append(names, projections.Text(t.name)), append(emails, projections.Text(t.email))
		availabilities = append(availabilities, projections.Text(string(t.availability)))
		notifyEmail, webhooks = append(notifyEmail, t.notify.Email), append(webhooks, t.notify.Webhook)
		inConsole = append(inConsole, t.notify.InConsole)
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO directory_technicians (id, name, email, availability, notify_email, notify_webhook, notify_in_console)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::boolean[], $7::boolean[])
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, availability = excluded.availability,
			notify_email = excluded.notify_email, notify_webhook = excluded.notify_webhook, notify_in_console = excluded.notify_in_console`,
		ids, names, emails, availabilities, notifyEmail, webhooks, inConsole)
	if err != nil {
		return fmt.Errorf("directory: write technicians: %w", err)
	}
	return nil
}

// writeAccess writes the batch's grants and revocations into table, whose grantee column is
// named holder: the grants a revocation of the batch ended go first, then the batch's grants
// are added, each after the grants of earlier batches unless it is one of them again.
func writeAccess(ctx context.Context, tx pgx.Tx, table, holder string, order []accessKey, grants map[accessKey]access) error {
	var grantTech, grantCompany, revokeTech, revokeCompany []uuid.UUID
	var his, los []int64
	for _, k := range order {
		g := grants[k]
		if g.reset {
			revokeTech, revokeCompany = append(revokeTech, k.technician), append(revokeCompany, k.company)
		}
		if g.granted {
			grantTech, grantCompany = append(grantTech, k.technician), append(grantCompany, k.company)
			his, los = append(his, int64(g.hi)), append(los, int64(g.lo))
		}
	}
	if len(revokeTech) > 0 {
		_, err := tx.Exec(ctx, `DELETE FROM `+table+` a
			USING unnest($1::uuid[], $2::uuid[]) AS r(holder, company_id)
			WHERE a.`+holder+` = r.holder AND a.company_id = r.company_id`, revokeTech, revokeCompany)
		if err != nil {
			return fmt.Errorf("directory: revoke access (%s): %w", table, err)
		}
	}
	if len(grantTech) > 0 {
		_, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+holder+`, company_id, granted_hi, granted_lo)
			SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[])
			ON CONFLICT (`+holder+`, company_id) DO NOTHING`,
			grantTech, grantCompany, his, los)
		if err != nil {
			return fmt.Errorf("directory: grant access (%s): %w", table, err)
		}
	}
	return nil
}
