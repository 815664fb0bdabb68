package request

import "strings"

// SearchKey is what a search of the requests compares: the term in lower case.
func SearchKey(term string) string { return strings.ToLower(term) }

// SearchDocument is what a search of the requests looks into: customer name, e-mail and
// description in lower case, one per line. A search term holds no line break, so it matches the
// document exactly when it matches one of the three. The request list stores it (written by the
// projection, read by the query), so both sides must agree on it: here is where they do.
func SearchDocument(customerName, customerEmail, description string) string {
	return strings.ToLower(customerName + "\n" + customerEmail + "\n" + description)
}
