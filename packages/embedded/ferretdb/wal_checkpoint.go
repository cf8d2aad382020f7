// Added to FerretDB v1.24.0's SQLite pool by the journey engine's build (packages/embedded/src/ferretdb.ts, patch 7).

package pool

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/FerretDB/FerretDB/internal/util/logging"
)

// SQLite's automatic checkpoints copy the write-ahead log into the database file, and the log starts over from the
// file's beginning once a checkpoint caught up and no reader is behind; but the file never shrinks, and under steady
// concurrent reads that moment is rare, so it grows to what the busiest stretch needed (407 MB after a million-user
// dispatch, 4.7 GB once) and stays so while the server runs. A TRUNCATE checkpoint waits for the readers of older
// snapshots, copies the rest and empties the file. It runs every few seconds on a connection of its own whose busy
// timeout is short: while it waits it holds writers off, so they wait at most that long, and a long read (a full
// scan) makes it give up until the next turn instead of stalling them.
const (
	walCheckpointEvery         = 5 * time.Second
	walCheckpointBusyTimeoutMs = 50
)

// checkpointWAL truncates the write-ahead log of the database at uri every walCheckpointEvery until db is closed.
func checkpointWAL(db *sql.DB, uri, name string, l *slog.Logger) {
	ctx := context.Background()

	own, err := sql.Open("sqlite", uri)
	if err != nil {
		l.Warn("WAL checkpoints stopped: open", slog.String("name", name), logging.Error(err))
		return
	}
	defer own.Close()

	var conn *sql.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()

	ticker := time.NewTicker(walCheckpointEvery)
	defer ticker.Stop()

	for range ticker.C {
		// The pool closes a database when it is dropped (and at shutdown): stop with it.
		if err = db.PingContext(ctx); err != nil && err.Error() == "sql: database is closed" {
			return
		}

		// Connecting can find the database locked (its first tables being created: "database is locked (261)"):
		// try again at the next turn. Giving up there left a database without checkpoints for the server's life.
		if conn == nil {
			if conn, err = checkpointConn(ctx, own); err != nil {
				l.Debug("WAL checkpoint connection failed", slog.String("name", name), logging.Error(err))
				continue
			}
		}

		var busy, logFrames, checkpointed int
		if err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
			l.Debug("WAL checkpoint failed", slog.String("name", name), logging.Error(err))
		}
	}
}

// checkpointConn opens the checkpoints' own connection, with their short busy timeout.
func checkpointConn(ctx context.Context, own *sql.DB) (*sql.Conn, error) {
	conn, err := own.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", walCheckpointBusyTimeoutMs)); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}
