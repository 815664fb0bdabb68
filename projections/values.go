package projections

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// UUID is id as a uuid parameter or COPY value for a read model's SQL.
//
// pgx encodes a uuid.UUID (or a *uuid.UUID) through its driver.Valuer: as text, which it then
// fails to write in binary form, formats an error about, and parses again. That detour cost a
// third of a rebuild's CPU. A pgtype.UUID is written as its sixteen bytes.
func UUID(id uuid.UUID) pgtype.UUID {
	return pgtype.UUID{Bytes: id, Valid: true}
}

// NullUUID is UUID with uuid.Nil as NULL.
func NullUUID(id uuid.UUID) pgtype.UUID {
	return pgtype.UUID{Bytes: id, Valid: id != uuid.Nil}
}

// UUIDs is UUID of each of ids, for a uuid[] parameter.
func UUIDs(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = UUID(id)
	}
	return out
}
