package fault

import (
	"context"
	"time"
)

// Pause waits d, the pause before trying again after a failure, or until ctx ends.
func Pause(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
