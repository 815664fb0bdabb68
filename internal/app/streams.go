package app

import (
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

// streamReader reads an aggregate's stream, decoded and folded (aggregateKind.load): what a
// query that needs the whole history folds (the details of a request the read model has not
// seen, a shared file's label, an auditor's history), and what the App returns of a company or
// a technician or an auditor. Commands decide on the states they cache instead (writer.go), through the same
// kinds.
type streamReader struct {
	store       eventlog.Store
	requests    *aggregateKind[*request.Request]
	companies   *aggregateKind[*directory.Company]
	technicians *aggregateKind[*directory.Technician]
	auditors    *aggregateKind[*directory.Auditor]
	policies    *aggregateKind[*routing.Policy]
	// serviceLevels are the companies' service levels (servicelevel-<company ID>).
	serviceLevels *aggregateKind[*servicelevel.Policy]
	// retentions are the companies' retention of personal data (retention-<company ID>).
	retentions *aggregateKind[*retention.Policy]
}

func newStreamReader(store eventlog.Store) streamReader {
	return streamReader{store: store, requests: requestKind(), companies: companyKind(), technicians: technicianKind(), auditors: auditorKind(),
		policies: policyKind(), serviceLevels: serviceLevelKind(), retentions: retentionKind()}
}
