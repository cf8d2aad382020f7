// Added to FerretDB v1.24.0's handler by the journey engine's build (packages/embedded/src/ferretdb.ts, patch 5).

package handler

import (
	"context"
	"errors"
	"fmt"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// deferredUpdates holds the documents of an update command's single-document statements, to write them in one
// transaction, and the documents such a command's statements target, read in one query.
type deferredUpdates struct {
	backends.Collection
	docs    []*types.Document
	ids     map[string]struct{}
	fetched map[string]*types.Document
}

// UpdateAll keeps the documents for flush.
func (d *deferredUpdates) UpdateAll(ctx context.Context, params *backends.UpdateAllParams) (*backends.UpdateAllResult, error) {
	d.docs = append(d.docs, params.Docs...)
	return &backends.UpdateAllResult{Updated: int32(len(params.Docs))}, nil
}

// flush writes the kept documents in one UpdateAll (one transaction).
func (d *deferredUpdates) flush(ctx context.Context) error {
	docs := d.docs
	d.docs = nil
	d.ids = map[string]struct{}{}
	if len(docs) == 0 {
		return nil
	}
	_, err := d.Collection.UpdateAll(ctx, &backends.UpdateAllParams{Docs: docs})
	return err
}

// idKey names a scalar _id value (string or ObjectID).
func idKey(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return "s" + v, true
	case types.ObjectID:
		return fmt.Sprintf("o%x", v[:]), true
	default:
		return "", false
	}
}

// filterKey names the one document a filter selects by a scalar _id.
func filterKey(filter *types.Document) (string, any, bool) {
	if filter == nil {
		return "", nil, false
	}
	v, err := filter.Get("_id")
	if err != nil {
		return "", nil, false
	}
	key, ok := idKey(v)
	return key, v, ok
}

// scalarID returns the _id a single-document statement targets, when its filter holds a scalar one.
func scalarID(u *common.Update) (string, any, bool) {
	if u.Multi {
		return "", nil, false
	}
	return filterKey(u.Filter)
}

// deferrable tells whether the statement targets one document by a scalar _id that no earlier kept statement targets.
func (d *deferredUpdates) deferrable(u *common.Update) bool {
	key, _, ok := scalarID(u)
	if !ok {
		return false
	}
	if _, seen := d.ids[key]; seen {
		return false
	}
	d.ids[key] = struct{}{}
	return true
}

// prefetch reads in one query the documents of a command whose statements all target distinct documents by scalar
// _id (each statement then reads what the command found at its start, which no statement before it changed).
func (d *deferredUpdates) prefetch(ctx context.Context, c backends.Collection, updates []common.Update) error {
	if len(updates) < 2 || len(updates) > 1000 {
		return nil
	}
	fetched := make(map[string]*types.Document, len(updates))
	ids := make([]any, 0, len(updates))
	for i := range updates {
		key, id, ok := scalarID(&updates[i])
		if !ok {
			return nil
		}
		if _, seen := fetched[key]; seen {
			return nil
		}
		fetched[key] = nil
		ids = append(ids, id)
	}
	filter := must.NotFail(types.NewDocument("_id", must.NotFail(types.NewDocument("$in", must.NotFail(types.NewArray(ids...))))))
	res, err := c.Query(ctx, &backends.QueryParams{Filter: filter})
	if err != nil {
		return err
	}
	defer res.Iter.Close()
	for {
		_, doc, err := res.Iter.Next()
		if errors.Is(err, iterator.ErrIteratorDone) {
			break
		}
		if err != nil {
			return err
		}
		v, _ := doc.Get("_id")
		if key, ok := idKey(v); ok {
			if _, wanted := fetched[key]; wanted {
				fetched[key] = doc
			}
		}
	}
	d.fetched = fetched
	return nil
}

// query answers a statement from the prefetched documents when they hold its _id, else queries the backend.
func (d *deferredUpdates) query(ctx context.Context, c backends.Collection, u *common.Update, qp *backends.QueryParams) (*backends.QueryResult, error) {
	if key, _, ok := scalarID(u); ok && d.fetched != nil {
		if doc, found := d.fetched[key]; found {
			delete(d.fetched, key)
			docs := []*types.Document{}
			if doc != nil {
				docs = append(docs, doc)
			}
			return &backends.QueryResult{Iter: iterator.Values(iterator.ForSlice(docs))}, nil
		}
	}
	return c.Query(ctx, qp)
}
