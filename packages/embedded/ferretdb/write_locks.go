// Added to FerretDB v1.24.0's handler by the journey engine's build (packages/embedded/src/ferretdb.ts, patch 6).

package handler

import (
	"slices"
	"sync"

	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/types"
)

// update, findAndModify and delete read the documents they match, check them in Go and write them back, outside any
// transaction that spans the read: two such commands on one document at once could both pass a condition only one
// of them should (two conditional updates both land, an $inc is lost, a delete and an update both report success).
// MongoDB's single-document atomicity is restored by serializing them per document in this process, which is the
// only writer of its SQLite files. A command whose documents are all named by a scalar _id locks those documents (in
// sorted order, so two commands over the same documents cannot deadlock) under a shared collection lock; any other
// command locks the collection exclusively. Inserts need no lock: the unique _id index settles their races.

type documentLock struct {
	sync.Mutex
	users int
}

type collectionLocks struct {
	all   sync.RWMutex
	mu    sync.Mutex
	docs  map[string]*documentLock
	users int
}

var writeLocks = struct {
	sync.Mutex
	collections map[string]*collectionLocks
}{collections: map[string]*collectionLocks{}}

// lockWrites locks the documents of db.collection named by keys when byID, else the whole collection, and returns
// the unlock.
func lockWrites(db, collection string, keys []string, byID bool) func() {
	name := db + "." + collection

	writeLocks.Lock()
	c := writeLocks.collections[name]
	if c == nil {
		c = &collectionLocks{docs: map[string]*documentLock{}}
		writeLocks.collections[name] = c
	}
	c.users++
	writeLocks.Unlock()

	release := func() {
		writeLocks.Lock()
		if c.users--; c.users == 0 {
			delete(writeLocks.collections, name)
		}
		writeLocks.Unlock()
	}

	if !byID {
		c.all.Lock()
		return func() {
			c.all.Unlock()
			release()
		}
	}

	c.all.RLock()
	slices.Sort(keys) // the callers' own slices
	keys = slices.Compact(keys)
	held := make([]*documentLock, 0, len(keys))
	for _, key := range keys {
		c.mu.Lock()
		d := c.docs[key]
		if d == nil {
			d = &documentLock{}
			c.docs[key] = d
		}
		d.users++
		c.mu.Unlock()

		d.Lock()
		held = append(held, d)
	}

	return func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Unlock()
			c.mu.Lock()
			if held[i].users--; held[i].users == 0 {
				delete(c.docs, keys[i])
			}
			c.mu.Unlock()
		}
		c.all.RUnlock()
		release()
	}
}

// updateKeys names the documents an update command's statements select by a scalar _id; false when any selects
// otherwise. (A multi statement with a scalar _id still selects at most that document.)
func updateKeys(updates []common.Update) ([]string, bool) {
	keys := make([]string, 0, len(updates))
	for i := range updates {
		key, _, ok := filterKey(updates[i].Filter)
		if !ok {
			return nil, false
		}
		keys = append(keys, key)
	}
	return keys, true
}

// lockUpdates locks what an update command's statements may read and write.
func lockUpdates(params *common.UpdateParams) func() {
	keys, byID := updateKeys(params.Updates)
	return lockWrites(params.DB, params.Collection, keys, byID)
}

// lockFilter locks what a findAndModify or delete statement of the filter may read and write.
func lockFilter(db, collection string, filter *types.Document) func() {
	key, _, byID := filterKey(filter)
	return lockWrites(db, collection, []string{key}, byID)
}
